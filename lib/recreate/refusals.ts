/** Containers a recreate must not touch, checked before any change. */
import { RecreateRefusedError } from '../errors.js';
import type { ContainerInspect } from '../docker/types.js';

/** Throws RECREATE_REFUSED when recreating `container` could not be done safely. */
export function checkRecreatable(container: ContainerInspect, selfContainerId: string | undefined): void {
  const name = container.Name.replace(/^\//, '');
  const refuse = (reason: string, message: string): never => {
    throw new RecreateRefusedError(`refusing to recreate ${name}: ${message}`, { details: { container: name, reason } });
  };
  if (selfContainerId && (container.Id === selfContainerId || container.Id.startsWith(selfContainerId))) {
    refuse('self', 'it is the container this monitor runs in, and stopping it would stop the recreate halfway');
  }
  if (container.HostConfig.AutoRemove) {
    refuse('auto_remove', 'it has AutoRemove set, so stopping it would delete it before the replacement runs');
  }
  if (container.State.Paused) {
    refuse('paused', 'it is paused; unpause it first');
  }
  if (container.Config.Labels?.['com.docker.swarm.task.id']) {
    refuse('swarm_task', 'it is a Swarm task; Swarm would replace it on its own');
  }
}
