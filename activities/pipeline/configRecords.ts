import type { Sql } from 'postgres';
import type { BootfarmConfig } from '../../domain/config';
import { publicTreeUrl } from '../../domain/publicUrl';

export interface ConfigSyncResult {
  trees: number;
  platforms: number;
  labs: number;
}

/** Upsert what the config declares, so the dashboard and the labs API know every tree, platform and lab. */
export function createConfigActivities({ sql }: { sql: Sql }) {
  return {
    async syncConfig(cfg: Pick<BootfarmConfig, 'trees' | 'platforms' | 'labs'>): Promise<ConfigSyncResult> {
      await sql.begin(async (tx) => {
        for (const t of cfg.trees) {
          await tx`insert into trees (name, url) values (${t.name}, ${publicTreeUrl(t.url)})
                   on conflict (name) do update set url = excluded.url`;
        }
        for (const p of cfg.platforms) {
          await tx`insert into platforms (name, arch, soc, dtb, boot_method)
                   values (${p.name}, ${p.arch}, ${p.soc}, ${p.dtb}, ${p.bootMethod})
                   on conflict (name) do update set arch = excluded.arch, soc = excluded.soc,
                     dtb = excluded.dtb, boot_method = excluded.boot_method`;
        }
        for (const l of cfg.labs) {
          await tx`insert into labs (name, adapter, platforms) values (${l.name}, ${l.adapter}, ${tx.json(l.platforms)})
                   on conflict (name) do update set adapter = excluded.adapter, platforms = excluded.platforms`;
        }
      });
      return { trees: cfg.trees.length, platforms: cfg.platforms.length, labs: cfg.labs.length };
    },
  };
}
