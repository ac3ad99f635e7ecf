// Node-only: registers every `shaders/*.wgsl` file, read from disk.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerShaders } from './shaders.ts';

const dir = fileURLToPath(new URL('../../../shaders/', import.meta.url));
const entries: Record<string, string> = {};
for (const file of readdirSync(dir)) {
  if (file.endsWith('.wgsl')) entries[file.slice(0, -'.wgsl'.length)] = readFileSync(dir + file, 'utf8');
}
registerShaders(entries);
