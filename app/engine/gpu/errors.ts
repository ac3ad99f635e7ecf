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

/** WebGPU exists but `requestAdapter()` returned no adapter. */
export class NoAdapterError extends GpuError {
  override name = 'NoAdapterError';
  constructor(detail = '') {
    super(
      'No WebGPU adapter was found' +
        (detail ? ` (${detail})` : '') +
        '. Update the graphics driver, enable hardware acceleration, or check chrome://gpu.',
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
