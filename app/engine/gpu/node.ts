// Node-only: acquires WebGPU through the `webgpu` package (Dawn). Never import from browser code.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestDevice, type DeviceHandle, type DeviceOptions } from './device.ts';
import { NoAdapterError } from './errors.ts';

/** SwiftShader, the CPU Vulkan driver that Debian's chromium package ships. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let webgpuModule: typeof import('webgpu') | undefined;

/**
 * Every Dawn instance created here. Dawn destroys an instance when its JS object is garbage
 * collected, even while devices made from it are in use, which crashes the process in
 * SwiftShader's threads. Holding them here keeps them alive for the life of the process.
 */
const liveInstances: GPU[] = [];

/**
 * Returns whether this machine has a GPU device node: a DRM render node (`/dev/dri/renderD*`, Mesa and
 * AMD/Intel drivers) or an NVIDIA device (`/dev/nvidia*`). Without one, the only Vulkan drivers
 * left are CPU ones such as Mesa's lavapipe.
 */
export function hasGpuDeviceNode(): boolean {
  const names = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return names('/dev/dri').some((n) => n.startsWith('renderD')) || names('/dev').some((n) => n.startsWith('nvidia'));
}

/**
 * Prepares the environment the Vulkan loader reads when Dawn creates an instance. Without
 * XDG_RUNTIME_DIR, libwayland-client prints "XDG_RUNTIME_DIR is invalid or not set" each time a
 * Mesa driver probes for a Wayland display, so a private empty folder (mode 0700, removed at exit)
 * is set when it is unset.
 */
function prepareVulkanEnvironment(): void {
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = mkdtempSync(join(tmpdir(), 'trit-runtime-'));
    process.env.XDG_RUNTIME_DIR = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
}

async function createGpu(): Promise<GPU> {
  if (!webgpuModule) prepareVulkanEnvironment();
  webgpuModule ??= await import('webgpu');
  Object.assign(globalThis, webgpuModule.globals);
  const gpu = webgpuModule.create([]) as GPU;
  liveInstances.push(gpu);
  return gpu;
}

/**
 * Requests a device under Node. VK_ICD_FILENAMES, when set, names the Vulkan drivers to use.
 * Otherwise a machine with no GPU device node (see `hasGpuDeviceNode`) goes straight to
 * SwiftShader, because its system drivers can only be CPU ones: Debian 12's lavapipe (Mesa 22.3)
 * lacks features Dawn requires and prints a warning as Dawn rejects it. A machine with a GPU device
 * node tries the system drivers first and retries with SwiftShader when they give no adapter.
 */
export async function requestNodeDevice(options: DeviceOptions = {}): Promise<DeviceHandle> {
  if (!process.env.VK_ICD_FILENAMES && !hasGpuDeviceNode() && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  try {
    return await requestDevice(await createGpu(), 'Node', options);
  } catch (error) {
    const canFallBack = error instanceof NoAdapterError && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD);
    if (!canFallBack) throw error;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    try {
      return await requestDevice(await createGpu(), 'Node', options);
    } catch {
      throw new NoAdapterError('Node: no Vulkan driver gave an adapter, SwiftShader included');
    }
  }
}
