/**
 * Adapters that need the lab's own settings (a LAVA server, a lab program),
 * built from its config, for `createLabActivities({ …, adapters })`.
 */
import type { LabConfig } from '../../domain/config';
import type { LabAdapter } from './adapter';
import { LavaAdapter } from './lava';
import { ShellAdapter } from './shell';

export function configuredAdapters(lab: LabConfig): Record<string, LabAdapter> {
  switch (lab.adapter) {
    case 'lava':
      return { lava: LavaAdapter.forLab(lab) };
    case 'shell':
      return { shell: ShellAdapter.forLab(lab) };
    default:
      return {};
  }
}
