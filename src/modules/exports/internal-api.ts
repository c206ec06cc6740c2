/** One GET of Burrow's own API, answered in-process (Fastify's inject): status, content type and body bytes. */
export type ApiGet = (path: string, headers: Record<string, string>) => Promise<ApiResponse>;

export interface ApiResponse {
  statusCode: number;
  contentType: string | undefined;
  payload: Buffer;
}

/**
 * How export jobs call Burrow's own API as the export's creator. The HTTP app attaches itself when it is built
 * (app.ts); a process that runs jobs builds an app for this even when it does not listen (worker.ts).
 */
export function createInternalApi() {
  let attached: ApiGet | null = null;
  const fetch = (path: string, headers: Record<string, string>): Promise<ApiResponse> => {
    if (!attached) throw new Error('The internal API is not attached: build the app in this process before running export jobs');
    return attached(path, headers);
  };
  return {
    attach(fn: ApiGet): void {
      attached = fn;
    },
    get attached(): boolean {
      return attached !== null;
    },
    /** The status and body text (JSON and CSV sources). */
    async get(path: string, headers: Record<string, string>): Promise<{ statusCode: number; body: string }> {
      const response = await fetch(path, headers);
      return { statusCode: response.statusCode, body: response.payload.toString('utf8') };
    },
    /** The whole response: what a page rendered for an export is answered with (its assets and API calls). */
    fetch,
  };
}

export type InternalApi = ReturnType<typeof createInternalApi>;
