// Node-only: acquires WebGPU through the `webgpu` package (Dawn). Never import from browser code.
import { existsSync } from 'node:fs';
import { requestDevice, type DeviceHandle, type DeviceOptions } from './device.ts';
import { NoAdapterError } from './errors.ts';

/** SwiftShader, the CPU Vulkan driver that Debian's chromium package ships. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let webgpuModule: typeof import('webgpu') | undefined;

/**
 * Every Dawn instance created here. Dawn destroys an instance when its JS object is garbage
 * collected, even while devices made from it are in use, which crashes the process in
 * SwiftShader's threads; holding them here keeps them alive for the life of the process.
 */
const liveInstances: GPU[] = [];

async function createGpu(): Promise<GPU> {
  webgpuModule ??= await import('webgpu');
  Object.assign(globalThis, webgpuModule.globals);
  const gpu = webgpuModule.create([]) as GPU;
  liveInstances.push(gpu);
  return gpu;
}

/**
 * Requests a device under Node. Uses the Vulkan drivers the system has, or those named in
 * VK_ICD_FILENAMES; when they give no adapter and none was named, retries with SwiftShader.
 */
export async function requestNodeDevice(options: DeviceOptions = {}): Promise<DeviceHandle> {
  try {
    return await requestDevice(await createGpu(), 'Node', options);
  } catch (error) {
    const canFallBack = error instanceof NoAdapterError && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD);
    if (!canFallBack) throw error;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    try {
      return await requestDevice(await createGpu(), 'Node', options);
    } catch {
      throw new NoAdapterError(
        'Node: no Vulkan driver gave an adapter, SwiftShader included; install `chromium` or a GPU driver, or set VK_ICD_FILENAMES',
      );
    }
  }
}
