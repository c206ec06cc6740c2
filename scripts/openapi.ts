import { writeFile } from 'node:fs/promises';
import { generateOpenApi } from '../src/openapi.js';

/** npm run openapi: writes openapi.yaml from the routes' schemas. A test fails when the committed file is stale. */
await writeFile(new URL('../openapi.yaml', import.meta.url), await generateOpenApi());
process.stdout.write('openapi.yaml written\n');
