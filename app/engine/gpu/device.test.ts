import { describe, expect, it } from 'vitest';
import { create } from 'webgpu';
import { testContext } from '../../test/gpu.ts';
import { describeAdapter, requestDevice } from './device.ts';
import { NoAdapterError, WgslFeatureMissingError } from './errors.ts';

/** Real Dawn instances made here; kept alive for the file, since Dawn frees a collected instance under its devices. */
const instances: GPU[] = [];

/** Returns a real Dawn GPU seen through an object whose WGSL feature list is `listed` (absent when undefined). */
async function gpuListing(listed: string[] | undefined): Promise<GPU> {
  await testContext(); // Sets VK_ICD_FILENAMES and the WebGPU globals the way the engine does.
  const gpu = create([]) as GPU;
  instances.push(gpu);
  const view: Partial<GPU> = { requestAdapter: (options) => gpu.requestAdapter(options) };
  if (listed) Object.assign(view, { wgslLanguageFeatures: new Set(listed) });
  return view as GPU;
}

describe('requestDevice', () => {
  it('lists needed WGSL features in the summary', async () => {
    const ctx = await testContext();
    expect(ctx.handle.summary.wgslFeatures).toEqual(['packed_4x8_integer_dot_product']);
    expect(describeAdapter(ctx.handle.summary)).toContain('WGSL packed_4x8_integer_dot_product');
  });

  it('rejects a browser without packed dot products', async () => {
    const gpu = await gpuListing(['pointer_composite_access']);
    const failure = requestDevice(gpu, 'this browser');
    await expect(failure).rejects.toThrow(WgslFeatureMissingError);
    await expect(failure).rejects.toThrow(/this browser lacks the WGSL language feature packed_4x8_integer_dot_product.*Update the browser/);
  });

  it('rejects a browser listing no WGSL features', async () => {
    await expect(requestDevice(await gpuListing(undefined), 'this worker')).rejects.toThrow(WgslFeatureMissingError);
  });

  it('accepts Node listing no WGSL features', async () => {
    const handle = await requestDevice(await gpuListing(undefined), 'Node');
    expect(handle.summary.wgslFeatures).toBeUndefined();
    expect(describeAdapter(handle.summary)).not.toContain('WGSL');
    handle.device.destroy();
  });
});

describe('NoAdapterError', () => {
  it('points a browser at chrome://gpu', () => {
    expect(new NoAdapterError('this browser').message).toBe(
      'No WebGPU adapter was found (this browser). Update the graphics driver, enable hardware acceleration, or check chrome://gpu.',
    );
  });

  it('points Node at a Vulkan driver instead', () => {
    const { message } = new NoAdapterError('Node: no Vulkan driver gave an adapter, SwiftShader included');
    expect(message).not.toContain('chrome://gpu');
    expect(message).toContain("Debian's `chromium` package");
    expect(message).toContain('VK_ICD_FILENAMES');
  });
});
