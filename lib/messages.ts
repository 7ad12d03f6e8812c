/**
 * Bilingual texts for API envelopes. Errors carry an English `message` and a
 * stable `code`. This module renders them in zh-CN (the default, as the
 * original API responded) or English, and contains the success messages.
 */
import { MountCoreError, type ErrorCode, type ErrorDetails } from './errors.js';

export type Language = 'zh-CN' | 'en';

/**
 * Picks the response language from an Accept-Language header: English when the
 * first supported tag is `en*`, zh-CN when it is `zh*`, else `fallback`.
 */
export function pickLanguage(acceptLanguage: string | undefined, fallback: Language): Language {
  if (!acceptLanguage) return fallback;
  const tags = acceptLanguage
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q === undefined ? 1 : Number(q.slice(2));
      return { tag: tag.toLowerCase(), weight: Number.isFinite(weight) ? weight : 0 };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight);
  for (const { tag } of tags) {
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
  }
  return fallback;
}

const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

/** zh-CN renderings of each error code; details fill in the specifics. */
const zhErrors: Record<ErrorCode, (d: ErrorDetails) => string> = {
  INVALID_JSON: () => '请求体不是有效的 JSON',
  UNSUPPORTED_MEDIA_TYPE: (d) => `不支持的 Content-Type "${str(d.content_type)}"，请使用 application/json`,
  BODY_TOO_LARGE: (d) => `请求体超过 ${str(d.limit)} 字节上限`,
  INVALID_FIELD: (d) => `字段 ${str(d.field)} 无效：应为 ${str(d.expected)}`,
  UNKNOWN_FIELD: (d) => `未知字段 ${str(d.field)}`,
  MISSING_FIELD: (d) => `缺少必填字段 ${str(d.field)}`,
  DUPLICATE_FIELD: (d) => `字段 ${str(d.field)} 在同一个 JSON 对象中出现了多次`,
  ROUTE_NOT_FOUND: (d) => `路由不存在：${str(d.method)} ${str(d.path)}`,
  METHOD_NOT_ALLOWED: (d) => `${str(d.path)} 不支持方法 ${str(d.method)}，允许：${str(d.allow)}`,
  UNAUTHORIZED: () => '缺少或无效的访问令牌（Authorization: Bearer）',
  DEBUG_DISABLED: () => '调试接口未启用，请设置 DEBUG_MODE=1',
  TOO_MANY_REQUESTS: (d) => `同时进行的修改请求过多（上限 ${str(d.limit)}），请稍后重试`,
  INVALID_USER_ID: (d) => `user_id 无效：${zhReason(d)}`,
  INVALID_WORKSPACE_ID: (d) => `workspace_id 无效：${zhReason(d)}`,
  INVALID_LOCAL_PATH: (d) => `local_path 无效：${zhReason(d)}`,
  INVALID_DESCRIPTION: (d) => `description 无效：${zhReason(d)}`,
  INVALID_READ_ONLY: () => 'read_only 必须是布尔值',
  PATH_NOT_ALLOWED: (d) => `不允许挂载主机路径 ${str(d.path)}${d.real_path ? `（实际指向 ${str(d.real_path)}）` : ''}：${zhReason(d)}`,
  MOUNT_NOT_FOUND: (d) => `挂载点不存在：${str(d.user_id)}/${str(d.workspace_id)}`,
  OPERATION_NOT_FOUND: (d) => `操作不存在：${str(d.id)}`,
  STORE_CORRUPT: (d) => `挂载数据文件 ${str(d.file)} 已损坏，已保留原文件且拒绝写入：${str(d.reason)}`,
  STORE_IO: (d) => `读写挂载数据文件 ${str(d.file)} 失败：${str(d.reason)}`,
  STORE_LOCK_TIMEOUT: (d) => `等待挂载数据文件锁 ${str(d.lock)} 超时，请稍后重试`,
  COMPOSE_INVALID: (d) => `docker-compose 文件 ${str(d.file)} 无法处理：${str(d.reason)}`,
  COMPOSE_IO: (d) => `读写 docker-compose 文件 ${str(d.file)} 失败：${str(d.reason)}`,
  DOCKER_UNAVAILABLE: (d) => `无法连接 Docker 引擎 ${str(d.docker_host)}${d.saved ? '，变更已保存，引擎恢复后自动应用' : ''}`,
  ENGINE_TIMEOUT: (d) => `Docker 引擎请求超时：${str(d.method)} ${str(d.path)}`,
  ENGINE_ERROR: (d) => `Docker 引擎返回错误 ${str(d.status)}（${str(d.method)} ${str(d.path)}）：${str(d.daemon_message)}`,
  ENGINE_VERSION_UNSUPPORTED: (d) => `Docker 引擎 API 版本 ${str(d.daemon_version)} 过旧，至少需要 ${str(d.min_version)}`,
  CONTAINER_NOT_FOUND: (d) => `容器不存在：${str(d.container ?? d.path)}`,
  BIND_SOURCE_MISSING: (d) => `主机路径不存在：${str(d.path)}，开发容器未重启`,
  BIND_SOURCE_NOT_DIRECTORY: (d) => `主机路径 ${str(d.path)} 不是目录，工作区只能挂载目录，开发容器未重启`,
  RECREATE_REFUSED: (d) => `拒绝重建容器 ${str(d.container)}：${zhReason(d)}`,
  RECREATE_FAILED: (d) =>
    `重建容器失败（步骤 ${str(d.step)}）：${str(d.daemon_message ?? d.reason)}${d.restored ? '，原容器已恢复运行' : ''}`,
  MONITOR_UNAVAILABLE: (d) => `监控API不可用：${str(d.url)}`,
  CONFIG_INVALID: (d) => `配置无效：${str(d.reason)}`,
  INTERNAL_ERROR: () => '服务器内部错误',
};

/** zh-CN texts for the `reason` keys that validation and policy errors set. */
const zhReasons: Record<string, string> = {
  missing: '不能为空',
  not_string: '必须是字符串',
  too_long: '过长',
  bad_characters: '包含不允许的字符（ID 只能包含字母、数字、点、下划线和连字符，且以字母或数字开头）',
  invalid_unicode: '包含无效的 Unicode 字符（孤立代理项）',
  unc_path: '不支持 UNC 路径或设备路径',
  not_normalized: '不是规范化的路径',
  not_boolean: '必须是布尔值',
  dot_segment: '不能是 . 或 ..',
  not_absolute: '必须是绝对路径',
  traversal: '不能包含 .. 路径段',
  control_characters: '不能包含控制字符或 NUL',
  windows_path: '这是 Windows 路径，而主机是 Linux',
  format_characters: '不能包含不可见字符或改变文字方向的控制字符',
  symlink_loop: '符号链接层数过多或形成循环',
  unverifiable: '监控服务无法在 HOST_ROOT 下检查该路径',
  denied: '属于禁止挂载的系统目录或 Docker 套接字',
  outside_allow: '不在允许的目录列表中',
  self: '这是监控容器自身',
  auto_remove: '容器设置了自动删除（AutoRemove）',
  paused: '容器处于暂停状态',
  swarm_task: '容器属于 Swarm 任务，由 Swarm 管理',
  dependents: '其他容器依赖它',
};

function zhReason(d: ErrorDetails): string {
  const reason = str(d.reason);
  return zhReasons[reason] ?? reason;
}

/** Renders an error for an API response in `language`. */
export function localizeError(error: MountCoreError, language: Language): string {
  if (language === 'en') return error.message;
  return zhErrors[error.code](error.details);
}

export type MessageKey =
  | 'health_ok'
  | 'mounts_listed'
  | 'mount_found'
  | 'mount_saved'
  | 'mount_unchanged'
  | 'mount_removed'
  | 'mount_saved_applied'
  | 'mount_removed_applied'
  | 'restart_accepted'
  | 'restart_done'
  | 'operation_found'
  | 'stats'
  | 'apply_accepted'
  | 'monitor_connected'
  | 'monitor_disconnected'
  | 'saved_pending_fallback'
  | 'removed_pending_fallback';

const texts: Record<MessageKey, { 'zh-CN': string; en: string }> = {
  health_ok: { 'zh-CN': '监控服务运行中', en: 'monitor is running' },
  mounts_listed: { 'zh-CN': '获取挂载配置成功', en: 'mounts listed' },
  mount_found: { 'zh-CN': '获取挂载点成功', en: 'mount found' },
  mount_saved: { 'zh-CN': '挂载点已保存，正在应用到开发容器', en: 'mount saved; applying it to the development container' },
  mount_unchanged: { 'zh-CN': '挂载点未变化，无需重启', en: 'mount unchanged; nothing to apply' },
  mount_removed: { 'zh-CN': '挂载点已删除，正在应用到开发容器', en: 'mount removed; applying the change to the development container' },
  mount_saved_applied: { 'zh-CN': '挂载点已添加并生效', en: 'mount added and applied' },
  mount_removed_applied: { 'zh-CN': '挂载点已删除并生效', en: 'mount removed and applied' },
  restart_accepted: { 'zh-CN': '已开始重启开发容器', en: 'restart of the development container started' },
  restart_done: { 'zh-CN': '开发容器已重启', en: 'development container restarted' },
  operation_found: { 'zh-CN': '获取操作状态成功', en: 'operation found' },
  stats: { 'zh-CN': '获取容器状态成功', en: 'container state read' },
  apply_accepted: { 'zh-CN': '已开始同步配置并应用', en: 'sync and apply started' },
  monitor_connected: { 'zh-CN': '监控API可用', en: 'monitor API is reachable' },
  monitor_disconnected: { 'zh-CN': '监控API不可用', en: 'monitor API is not reachable' },
  saved_pending_fallback: {
    'zh-CN': '监控API不可用，挂载点已保存，监控恢复后自动应用',
    en: 'monitor unreachable; mount saved and will be applied when the monitor is back',
  },
  removed_pending_fallback: {
    'zh-CN': '监控API不可用，挂载点已删除，监控恢复后自动应用',
    en: 'monitor unreachable; mount removed and the change will be applied when the monitor is back',
  },
};

/** Returns the success message `key` in `language`. */
export function text(key: MessageKey, language: Language): string {
  return texts[key][language];
}
