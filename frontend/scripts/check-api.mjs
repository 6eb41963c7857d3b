// Fails when src/lib/api/schema.d.ts is stale against openapi.json (refresh openapi.json from the
// server with `opsflow openapi > frontend/openapi.json` first, then run `npm run gen:api`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'opsflow-api-'));
const fresh = join(dir, 'schema.d.ts');
try {
  execFileSync(
    join(root, 'node_modules', '.bin', 'openapi-typescript'),
    [join(root, 'openapi.json'), '-o', fresh],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const committed = readFileSync(join(root, 'src/lib/api/schema.d.ts'), 'utf8');
  if (readFileSync(fresh, 'utf8') !== committed) {
    console.error('src/lib/api/schema.d.ts is stale against openapi.json: run `npm run gen:api`.');
    process.exitCode = 1;
  } else {
    console.log('API types are up to date with openapi.json.');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
