/** One GET of Burrow's own API, answered in-process (Fastify's inject): status and body text. */
export type ApiGet = (path: string, headers: Record<string, string>) => Promise<{ statusCode: number; body: string }>;

/**
 * How export jobs call Burrow's own API as the export's creator. The HTTP app attaches itself when it is built
 * (app.ts); a process that runs jobs builds an app for this even when it does not listen (worker.ts).
 */
export function createInternalApi() {
  let get: ApiGet | null = null;
  return {
    attach(fn: ApiGet): void {
      get = fn;
    },
    get attached(): boolean {
      return get !== null;
    },
    get(path: string, headers: Record<string, string>): Promise<{ statusCode: number; body: string }> {
      if (!get) throw new Error('The internal API is not attached: build the app in this process before running export jobs');
      return get(path, headers);
    },
  };
}

export type InternalApi = ReturnType<typeof createInternalApi>;
