// WGSL sources of `shaders/`, keyed by file name without `.wgsl`. The page and the worker
// register them through Vite (`shaders.browser.ts`); Node reads the folder (`shaders.node.ts`).

const sources = new Map<string, string>();

export function registerShaders(entries: Record<string, string>): void {
  for (const [name, source] of Object.entries(entries)) sources.set(name, source);
}

export function shaderSource(name: string): string {
  const source = sources.get(name);
  if (source === undefined) {
    throw new Error(
      `Shader "${name}" is not registered. Import app/engine/gpu/shaders.node.ts (Node) or shaders.browser.ts (Vite) first, and check that shaders/${name}.wgsl exists.`,
    );
  }
  return source;
}
