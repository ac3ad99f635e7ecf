/** Base class of every GPU error the engine raises; `message` is a sentence a person can act on. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** The environment has no WebGPU at all (`navigator.gpu` is missing). */
export class WebGpuUnavailableError extends GpuError {
  override name = 'WebGpuUnavailableError';
  constructor(where: string) {
    super(
      `WebGPU is not available in ${where}. Use a browser with WebGPU enabled ` +
        '(Chrome or Edge 113+, or Chromium started with --enable-unsafe-webgpu), ' +
        'or under Node install a Vulkan driver.',
    );
  }
}

/** Advice for a missing adapter, in a browser and under Node. */
const NO_ADAPTER_ADVICE = {
  browser: 'Update the graphics driver, enable hardware acceleration, or check chrome://gpu.',
  node:
    "Install Debian's `chromium` package (its SwiftShader driver runs WebGPU on the CPU) or a GPU driver with Vulkan, " +
    "or set VK_ICD_FILENAMES to a Vulkan driver's ICD file.",
};

/**
 * WebGPU exists but `requestAdapter()` returned no adapter. `detail` names where; a `detail` that
 * starts with "Node" gets the advice for Node, any other the advice for browsers.
 */
export class NoAdapterError extends GpuError {
  override name = 'NoAdapterError';
  constructor(detail = '') {
    const advice = detail.startsWith('Node') ? NO_ADAPTER_ADVICE.node : NO_ADAPTER_ADVICE.browser;
    super(`No WebGPU adapter was found${detail ? ` (${detail})` : ''}. ${advice}`);
  }
}

/** The WGSL compiler lacks a language feature the kernels need, such as `packed_4x8_integer_dot_product`. */
export class WgslFeatureMissingError extends GpuError {
  override name = 'WgslFeatureMissingError';
  constructor(
    readonly feature: string,
    where: string,
  ) {
    super(
      where.startsWith('Node')
        ? `The WebGPU of Node (the \`webgpu\` package) lacks the WGSL language feature ${feature}, which the ternary kernels need. ` +
            'Update the `webgpu` package.'
        : `The WebGPU of ${where} lacks the WGSL language feature ${feature}, which the ternary kernels need. ` +
            'Update the browser (Chrome or Edge 123 or later has it).',
    );
  }
}

/** The adapter's limit is below what the model needs. */
export class LimitTooSmallError extends GpuError {
  override name = 'LimitTooSmallError';
  constructor(
    readonly limit: string,
    readonly required: number,
    readonly available: number,
  ) {
    super(
      `The GPU adapter's ${limit} is ${available}, but the model needs at least ${required}. ` +
        'Try another browser or GPU.',
    );
  }
}

/** The device was lost; the engine must be loaded again on a new device. */
export class DeviceLostError extends GpuError {
  override name = 'DeviceLostError';
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). Load the model again.`);
  }
}

/** An uncaptured validation or out-of-memory error from WebGPU. Its message names the labelled object. */
export class GpuValidationError extends GpuError {
  override name = 'GpuValidationError';
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    detail: string,
  ) {
    super(`WebGPU ${kind} error: ${detail}`);
  }
}

/** A tensor's shape or dtype does not fit a kernel; the message names both operands. */
export class ShapeError extends GpuError {
  override name = 'ShapeError';
}
