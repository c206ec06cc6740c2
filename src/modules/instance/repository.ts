import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { instanceSettings } from '../../db/schema/index.js';

export function createInstanceRepository(db: Db) {
  return {
    async get(key: string, tx: Db = db): Promise<unknown> {
      const [row] = await tx.select({ value: instanceSettings.value }).from(instanceSettings).where(eq(instanceSettings.key, key));
      return row?.value;
    },

    /** Stores the value unless the key is already set; returns whichever value won. */
    async setIfAbsent(key: string, value: unknown, tx: Db = db): Promise<unknown> {
      await tx.insert(instanceSettings).values({ key, value }).onConflictDoNothing();
      const [row] = await tx.select({ value: instanceSettings.value }).from(instanceSettings).where(eq(instanceSettings.key, key));
      return row!.value;
    },
  };
}

export type InstanceRepository = ReturnType<typeof createInstanceRepository>;
