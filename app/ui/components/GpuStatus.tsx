import type { AdapterSummary } from '../../engine/gpu/device.ts';
import { formatLimit } from '../format.ts';
import { useApp } from '../store.ts';

/** Shows the adapter in one line, with its features and limits when opened. */
export function GpuStatus() {
  const gpu = useApp((state) => state.gpu);
  if (gpu.status === 'checking') {
    return <p className="muted" role="status">Checking for WebGPU…</p>;
  }
  if (gpu.status === 'unavailable') return null;

  const { adapter } = gpu;
  return (
    <details className="gpu-status">
      <summary>
        <span className="dot ok" aria-hidden="true" /> WebGPU ready: {adapter.vendor || 'adapter'} {adapter.architecture}
      </summary>
      <dl className="facts">
        <dt>Adapter</dt>
        <dd>{adapterName(adapter)}</dd>
        <dt>Features</dt>
        <dd>{adapter.features.length ? adapter.features.join(', ') : 'none of shader-f16, subgroups, timestamp-query'}</dd>
        {adapter.wgslFeatures && (
          <>
            <dt>WGSL features</dt>
            <dd>{adapter.wgslFeatures.length ? adapter.wgslFeatures.join(', ') : 'none listed'}</dd>
          </>
        )}
        <dt>Max buffer</dt>
        <dd>{formatLimit(adapter.maxBufferSize)}</dd>
        <dt>Max storage binding</dt>
        <dd>{formatLimit(adapter.maxStorageBufferBindingSize)}</dd>
        <dt>Workgroup storage</dt>
        <dd>{formatLimit(adapter.maxComputeWorkgroupStorageSize)}</dd>
        <dt>Invocations per workgroup</dt>
        <dd>{adapter.maxComputeInvocationsPerWorkgroup}</dd>
      </dl>
    </details>
  );
}

/** Names the adapter and its driver's description; its features and limits have their own rows. */
function adapterName(adapter: AdapterSummary): string {
  const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = adapter.description || adapter.device;
  return detail ? `${name} (${detail})` : name;
}

/** Explains, in place of the chat, why the model cannot run in this browser and what to try. */
export function NoWebGpu() {
  const gpu = useApp((state) => state.gpu);
  if (gpu.status !== 'unavailable') return null;
  const noApi = gpu.code === 'no-webgpu';
  return (
    <section className="panel no-webgpu" aria-labelledby="no-webgpu-title" role="alert">
      <h2 id="no-webgpu-title">{noApi ? 'This browser cannot run the model: WebGPU is not available' : 'WebGPU found no usable graphics adapter'}</h2>
      <p>Trit runs the model on your GPU through WebGPU, in this page, without a server. {gpu.message}</p>
      <h3>What to try</h3>
      <ul>
        <li>Use a current Chrome or Edge (version 113 or later) on Windows, macOS or ChromeOS, or Chrome 121 or later on Android.</li>
        <li>
          On Linux, start Chrome or Chromium with <code>--enable-unsafe-webgpu</code>, or turn on{' '}
          <code>chrome://flags/#enable-unsafe-webgpu</code> and restart it.
        </li>
        <li>Firefox 141 or later on Windows and Safari 26 or later ship WebGPU; older versions need it turned on in their settings.</li>
        <li>Turn on hardware acceleration in the browser settings, update the graphics driver, and see <code>chrome://gpu</code> for why WebGPU is off.</li>
        <li>WebGPU needs a secure page: open the app over https or from localhost.</li>
      </ul>
    </section>
  );
}
