/** Burrow's version, as the OpenAPI document and the home page show it. */
export const VERSION = '0.1.0';
