/** Test for managed workspace mount targets: `<workspaceRoot>/<user_id>/<workspace_id>`. */
import { ID_PATTERN } from './ids.js';

/** Returns a test that accepts exactly the targets two valid id segments below `workspaceRoot`. */
export function managedTargetTest(workspaceRoot: string): (containerPath: string) => boolean {
  const root = workspaceRoot.replace(/\/+$/, '');
  return (containerPath) => {
    const path = containerPath.length > 1 ? containerPath.replace(/\/+$/, '') : containerPath;
    if (!path.startsWith(`${root}/`)) return false;
    const rest = path.slice(root.length + 1).split('/');
    return rest.length === 2 && rest.every((segment) => ID_PATTERN.test(segment) && segment !== '.' && segment !== '..');
  };
}
