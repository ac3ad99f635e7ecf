import { DeviceLostError, GpuValidationError, LimitTooSmallError, NoAdapterError, WebGpuUnavailableError, WgslFeatureMissingError } from './errors.ts';

/** Optional features the engine uses when the adapter has them. */
export const OPTIONAL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;
export type OptionalFeature = (typeof OPTIONAL_FEATURES)[number];

/** WGSL language features the kernels need: the ternary product calls `dot4I8Packed`. */
export const REQUIRED_WGSL_FEATURES = ['packed_4x8_integer_dot_product'] as const;

export interface DeviceOptions {
  /**
   * Caps `maxStorageBufferBindingSize` below the adapter's maximum, so tests can force the
   * split-binding path that adapters with a 128 MiB limit take.
   */
  maxStorageBufferBindingSize?: number;
  /** Features to leave off even when the adapter has them, to test fallbacks. */
  disableFeatures?: OptionalFeature[];
  /** Smallest `maxStorageBufferBindingSize` the caller can work with. */
  minStorageBufferBindingSize?: number;
  powerPreference?: GPUPowerPreference;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: OptionalFeature[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** Of {@link REQUIRED_WGSL_FEATURES}, those the WGSL compiler has; absent where it does not list its features. */
  wgslFeatures?: string[];
}

/** A WebGPU device with the facts the engine chose it by. */
export interface DeviceHandle {
  device: GPUDevice;
  adapter: GPUAdapter;
  summary: AdapterSummary;
  features: ReadonlySet<OptionalFeature>;
  /** Resolves with the loss error when the device is lost; never rejects. */
  lost: Promise<DeviceLostError>;
  /** Errors WebGPU raised outside an error scope, oldest first. */
  uncapturedErrors: GpuValidationError[];
}

/**
 * Formats the adapter in one line, e.g. "google swiftshader (SwiftShader driver 5.0.0), subgroups,
 * timestamp-query, WGSL packed_4x8_integer_dot_product, binding 1024 MiB".
 */
export function describeAdapter(summary: AdapterSummary): string {
  const name = [summary.vendor, summary.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = summary.description || summary.device;
  const features = summary.features.length ? summary.features.join(', ') : 'no optional features';
  const wgsl = summary.wgslFeatures?.length ? `, WGSL ${summary.wgslFeatures.join(', ')}` : '';
  const mib = Math.floor(summary.maxStorageBufferBindingSize / 2 ** 20);
  return `${name}${detail ? ` (${detail})` : ''}, ${features}${wgsl}, binding ${mib} MiB`;
}

function summarize(adapter: GPUAdapter, limits: GPUSupportedLimits, features: OptionalFeature[], wgslFeatures: string[] | undefined): AdapterSummary {
  const info = adapter.info;
  const extra = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    features,
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    subgroupMinSize: extra.subgroupMinSize,
    subgroupMaxSize: extra.subgroupMaxSize,
    wgslFeatures,
  };
}

/**
 * Returns which of {@link REQUIRED_WGSL_FEATURES} `gpu` has, or throws {@link WgslFeatureMissingError}
 * for the first one it lacks. A browser without `wgslLanguageFeatures` predates them all. Under
 * Node (`where` starting with "Node"), a `webgpu` package that does not list them is let through
 * with `undefined`, because shader compilation reports a missing feature there.
 */
function checkWgslFeatures(gpu: GPU, where: string): string[] | undefined {
  const listed = (gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  if (!listed && where.startsWith('Node')) return undefined;
  for (const feature of REQUIRED_WGSL_FEATURES) {
    if (!listed?.has(feature)) throw new WgslFeatureMissingError(feature, where);
  }
  return [...REQUIRED_WGSL_FEATURES];
}

/**
 * Requests an adapter and a device from `gpu` (`navigator.gpu` in a page or worker, or the
 * `webgpu` package's GPU under Node) with the adapter's maximum buffer and binding sizes and
 * every optional feature it has.
 */
export async function requestDevice(gpu: GPU | undefined, where: string, options: DeviceOptions = {}): Promise<DeviceHandle> {
  if (!gpu) throw new WebGpuUnavailableError(where);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoAdapterError(where);
  const wgslFeatures = checkWgslFeatures(gpu, where);

  const disabled = new Set(options.disableFeatures ?? []);
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f));
  const bindingLimit = Math.min(
    adapter.limits.maxStorageBufferBindingSize,
    options.maxStorageBufferBindingSize ?? Number.POSITIVE_INFINITY,
  );
  const minBinding = options.minStorageBufferBindingSize ?? 0;
  if (bindingLimit < minBinding) {
    throw new LimitTooSmallError('maxStorageBufferBindingSize', minBinding, bindingLimit);
  }

  const device = await adapter.requestDevice({
    label: 'trit',
    requiredFeatures: features as GPUFeatureName[],
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: bindingLimit,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
    },
  });

  const uncapturedErrors: GpuValidationError[] = [];
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    const kind = error instanceof GPUOutOfMemoryError ? 'out-of-memory' : error instanceof GPUInternalError ? 'internal' : 'validation';
    uncapturedErrors.push(new GpuValidationError(kind, error.message));
  });
  const lost = device.lost.then((info) => new DeviceLostError(info.reason, info.message));

  return {
    device,
    adapter,
    summary: summarize(adapter, device.limits, features, wgslFeatures),
    features: new Set(features),
    lost,
    uncapturedErrors,
  };
}

/** Requests a device in a page or a worker. */
export function requestBrowserDevice(options: DeviceOptions = {}): Promise<DeviceHandle> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const where = typeof window === 'undefined' ? 'this worker' : 'this browser';
  return requestDevice(gpu, where, options);
}
