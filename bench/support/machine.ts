import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { Client } from 'pg';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  uvThreadpoolSize: number;
  loadAverage: number[];
  postgres?: { version: string; settings: Record<string, string> };
}

/** What the numbers were measured on; the load average shows whether the machine was shared at the time. */
export async function machineInfo(databaseUrl?: string): Promise<MachineInfo> {
  const info: MachineInfo = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  if (databaseUrl) {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const [{ version }] = (await client.query('SELECT version()')).rows as { version: string }[];
      const settings = (
        await client.query(
          `SELECT name, current_setting(name) AS value FROM pg_settings
            WHERE name IN ('server_version', 'shared_buffers', 'synchronous_commit', 'fsync', 'wal_sync_method', 'max_connections', 'max_locks_per_transaction')`,
        )
      ).rows as { name: string; value: string }[];
      info.postgres = { version, settings: Object.fromEntries(settings.map((s) => [s.name, s.value])) };
    } finally {
      await client.end();
    }
  }
  return info;
}
