/**
 * JSON text that is exactly what the response serializer prints for a value of type T, built by Postgres (see
 * db/json-text.ts) so that a long list is neither parsed into objects nor stringified again. The serializer writes
 * it as it is, as the whole response or as a field of the response object.
 */
export class JsonText<T> {
  declare private readonly printed: T;
  constructor(readonly text: string) {}
}

/**
 * The JsonText where a handler's response type wants its value. Fastify types a handler's answer from its response
 * schema, which knows nothing of JsonText; the serializer prints the text at that place.
 */
export const printedAs = <T>(json: JsonText<T>): T => json as unknown as T;
