// Registers every `shaders/*.wgsl` file, bundled by Vite as text.
import { registerShaders } from './shaders.ts';

const modules = import.meta.glob('../../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const entries: Record<string, string> = {};
for (const [path, source] of Object.entries(modules)) {
  entries[path.slice(path.lastIndexOf('/') + 1, -'.wgsl'.length)] = source;
}
registerShaders(entries);
