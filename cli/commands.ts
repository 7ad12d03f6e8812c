/** The commands of mountctl: names, aliases of the original Python tool, options and help text. */

export type CommandName = 'add' | 'rm' | 'ls' | 'show' | 'restart' | 'status' | 'test' | 'help';

export interface CommandSpec {
  name: CommandName;
  aliases: string[];
  /** Positional arguments, in order; mount fields may also come from --user, --workspace and --path. */
  positionals: string[];
  /** Options beyond the global ones. */
  options: string[];
  summary: string;
  usage: string;
  /** Lines of help after the usage line. */
  details: string[];
}

export const GLOBAL_HELP = [
  'Global options:',
  '  --url URL        API base URL. Default: $MOUNTCTL_URL, else http://127.0.0.1:8089/api (the monitor).',
  '                   A URL whose path ends in /api/mounts is taken as the development-container proxy.',
  '  --proxy          Talk to the proxy (its original routes) even when the URL does not end in /api/mounts.',
  '  --json           Print the envelope the server returned, as JSON, instead of text.',
  '  --lang LANG      Language of the server messages: en (default) or zh-CN; sent as Accept-Language.',
  '  --timeout SECS   How long --wait follows an operation, in seconds. Default: 600.',
  '  -h, --help       Show help.',
  '',
  'Environment: MONITOR_TOKEN (bearer token for the monitor), PROXY_TOKEN (bearer token for the proxy),',
  'MOUNTCTL_URL (default --url). Tokens are read only from the environment and never printed.',
  '',
  'Exit codes: 0 ok, 1 request rejected, 2 usage error, 3 server unreachable (or the proxy cannot',
  'reach the monitor), 4 operation failed.',
];

const mountFields = [
  '  -u, --user ID        User id; the same as the first argument.',
  '  -w, --workspace ID   Workspace id; the same as the second argument.',
];
const waitOption = '  --wait               Follow the operation until it ends: a live progress line on a terminal, else one line a step.';

export const COMMANDS: CommandSpec[] = [
  {
    name: 'add',
    aliases: ['mount'],
    positionals: ['user', 'workspace', 'path'],
    options: ['user', 'workspace', 'path', 'desc', 'read-only', 'wait'],
    summary: 'Add or replace a mount, then apply it to the development container.',
    usage: 'mountctl add USER WORKSPACE HOST_PATH [--desc TEXT] [--read-only] [--wait]',
    details: [
      ...mountFields,
      '  -p, --path PATH      Host folder to mount, as an absolute path on the Docker host; sent as given.',
      '  --desc TEXT          Description of the mount.',
      '  --read-only          Mount the folder read-only.',
      waitOption,
      '',
      'The mount appears in the development container at WORKSPACE_ROOT/USER/WORKSPACE.',
      'With --wait, exits 4 when the apply fails or leaves this mount in state failed.',
    ],
  },
  {
    name: 'rm',
    aliases: ['unmount'],
    positionals: ['user', 'workspace'],
    options: ['user', 'workspace', 'wait'],
    summary: 'Remove a mount, then apply the change.',
    usage: 'mountctl rm USER WORKSPACE [--wait]',
    details: [...mountFields, waitOption],
  },
  {
    name: 'ls',
    aliases: ['list'],
    positionals: [],
    options: [],
    summary: 'List all mounts with their state (applied, pending, failed).',
    usage: 'mountctl ls',
    details: [],
  },
  {
    name: 'show',
    aliases: [],
    positionals: ['user', 'workspace'],
    options: ['user', 'workspace'],
    summary: 'Show one mount.',
    usage: 'mountctl show USER WORKSPACE',
    details: mountFields,
  },
  {
    name: 'restart',
    aliases: [],
    positionals: [],
    options: ['wait'],
    summary: 'Restart the development container, recreating it when its mounts drifted.',
    usage: 'mountctl restart [--wait]',
    details: [waitOption],
  },
  {
    name: 'status',
    aliases: [],
    positionals: ['operation'],
    options: ['wait'],
    summary: 'Show the progress and result of an operation.',
    usage: 'mountctl status OPERATION [--wait]',
    details: [waitOption, '', 'Exits 4 when the operation has failed.'],
  },
  {
    name: 'test',
    aliases: [],
    positionals: [],
    options: [],
    summary: 'Check that the monitor answers (through the proxy: that the proxy reaches it).',
    usage: 'mountctl test',
    details: ['Against the monitor, also shows whether it reaches Docker and the state of the development container.'],
  },
  {
    name: 'help',
    aliases: [],
    positionals: ['command'],
    options: [],
    summary: 'Show help for a command.',
    usage: 'mountctl help [COMMAND]',
    details: [],
  },
];

/** Finds a command by its name or alias. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name || command.aliases.includes(name));
}

/** Returns the overview that `mountctl --help` prints. */
export function overviewHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2;
  const lines = [
    'mountctl: manage the host-folder mounts of the development container through the mount-core monitor or proxy.',
    '',
    'Usage: mountctl COMMAND [ARGS] [OPTIONS]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => {
      const aliases = command.aliases.length > 0 ? ` (alias: ${command.aliases.join(', ')})` : '';
      return `  ${command.name.padEnd(width)}${command.summary}${aliases}`;
    }),
    '',
    ...GLOBAL_HELP,
    '',
    'Run "mountctl COMMAND --help" for the options of a command.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Returns the help that `mountctl COMMAND --help` prints. */
export function commandHelp(command: CommandSpec): string {
  const aliases = command.aliases.length > 0 ? [`Alias: ${command.aliases.join(', ')}`, ''] : [];
  const details = command.details.length > 0 ? ['Options:', ...command.details, ''] : [];
  const lines = [command.summary, '', `Usage: ${command.usage}`, '', ...aliases, ...details, ...GLOBAL_HELP];
  return `${lines.join('\n')}\n`;
}
