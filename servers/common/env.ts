/** Typed reads of environment variables; each failure names the variable and quotes the value. */
import { ConfigError } from '../../lib/errors.js';
import type { Language } from '../../lib/messages.js';
import type { LogLevel } from './log.js';

export type Env = Record<string, string | undefined>;

const invalid = (name: string, value: string, expected: string) =>
  new ConfigError(`${name}=${JSON.stringify(value)} is invalid: expected ${expected}`, { details: { reason: `${name}: expected ${expected}` } });

export function readString(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function readOptional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value.trim())) throw invalid(name, value, `a whole number from ${min} to ${max}`);
  const number = Number(value.trim());
  if (number < min || number > max) throw invalid(name, value, `a whole number from ${min} to ${max}`);
  return number;
}

export function readFlag(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const lower = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw invalid(name, value, '0 or 1');
}

/** Reads a comma-separated list (colons belong to paths) and drops blank items. */
export function readList(env: Env, name: string): string[] {
  const value = env[name];
  if (!value) return [];
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}

export function readLanguage(env: Env, name: string, fallback: Language): Language {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'en' || value === 'zh-CN') return value;
  throw invalid(name, value, '"zh-CN" or "en"');
}

export function readLogLevel(env: Env, name: string): LogLevel {
  const value = env[name];
  if (value === undefined || value === '') return 'info';
  if (value === 'debug' || value === 'info' || value === 'warn' || value === 'error') return value;
  throw invalid(name, value, 'debug, info, warn or error');
}

/** Reads a path that must be absolute, as every file a server shares with another container is. */
export function readAbsolutePath(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!value.startsWith('/')) throw invalid(name, value, 'an absolute path');
  return value;
}

/** Checks a TCP port number string. */
export function readPort(env: Env, name: string, fallback: number): number {
  return readInteger(env, name, fallback, 0, 65535);
}
