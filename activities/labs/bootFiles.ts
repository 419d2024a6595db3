/**
 * The files of one boot (kernel, ramdisk, dtb) copied from the artifact store
 * into a directory of the lab worker, for adapters that hand paths to a
 * program (shell) or serve them over HTTP (LAVA).
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { BootRequest } from '../../domain/types';
import type { BootContext } from './adapter';

export interface BootFiles {
  kernel: string;
  ramdisk?: string;
  dtb?: string;
}

/**
 * The request's ramdisk wins over the platform's; a platform ramdisk is a
 * file on the lab host (absolute path, used in place) or an artifact key.
 */
export async function fetchBootFiles(
  req: BootRequest,
  ctx: Pick<BootContext, 'store'>,
  dir: string,
): Promise<BootFiles> {
  const fetch = async (key: string, name: string) => {
    const path = join(dir, name);
    await ctx.store.getToFile(key, path);
    return path;
  };
  const files: BootFiles = { kernel: await fetch(req.kernel.key, 'kernel') };
  if (req.ramdisk) files.ramdisk = await fetch(req.ramdisk.key, 'ramdisk');
  else if (req.platform.ramdisk && isAbsolute(req.platform.ramdisk)) {
    if (!(await stat(req.platform.ramdisk).catch(() => undefined))?.isFile())
      throw new Error(`ramdisk ${req.platform.ramdisk} is not a readable file on this lab worker`);
    files.ramdisk = req.platform.ramdisk;
  } else if (req.platform.ramdisk) files.ramdisk = await fetch(req.platform.ramdisk, 'ramdisk');
  if (req.dtb) files.dtb = await fetch(req.dtb.key, 'dtb');
  return files;
}
