import { UsageError, choiceOption, numberOption, parseCommandLine, positiveIntegerOption, type OptionValues } from './args.ts';
import type { Subcommand } from './main.ts';

const help = `Usage:
  trit bench --kernels [--json] [--runs N] [--reduction subgroup|workgroup] [--probe]
                       [--max-binding MiB] [--wall-time]
  trit bench --model <package> [--dense] [--json] [--prompt-tokens N] [--decode-tokens N]
                               [--no-image]

Measures speed on this machine's WebGPU adapter (Dawn under Node).

--kernels             Time the mat-vec of each of the model's shapes (rows×cols = out×in:
                      6144×2048, 2048×2048, 16384×2048, 2048×8192, 50304×2048) with the
                      ternary kernel and the dense f16 and f32 kernels, and the copy kernel's
                      bandwidth; print each kernel's GB/s, its fraction of copy bandwidth and
                      the ternary speed-ups.
--model <package>     Run a converted package (folder or URL) on the GPU and report image
                      encoding time, prefill and decode tokens/s, time to first token, GPU
                      bytes and the decode bandwidth floor.
--dense               With --model: hold the ternary layers as dense f16 matrices of the
                      same values, so the two runs differ only in weight format.
--prompt-tokens N     With --model: text tokens after the image in the prompt (default 32).
--decode-tokens N     With --model: greedy decoding steps timed (default 16).
--no-image            With --model: prompt without the image.
--json                Print one JSON object instead of tables. For --kernels:
                      {adapter, copyGBps, results: [{kernel, rows, cols, medianMs, GBps}]};
                      for --model: {adapter, imageEncodeMs, prefillTokensPerS,
                      decodeTokensPerS, firstTokenMs, gpuBytes, floorDecodeTokensPerS}.
--runs N              Timed runs a kernel; the median is reported (default 15).
--reduction KIND      Force subgroup or workgroup-memory reductions instead of the selector's.
--probe               Time both reductions first and keep the faster (as the selector's probe).
--max-binding MiB     Cap the storage binding size, e.g. 128 to split large dense weights as
                      adapters with a 128 MiB limit must.
--wall-time           Time with wall clock around onSubmittedWorkDone even when the adapter
                      has timestamp-query.
-h, --help            Show this help.`;

const OPTIONS = {
  kernels: { type: 'boolean' },
  model: { type: 'string' },
  json: { type: 'boolean' },
  runs: { type: 'string' },
  reduction: { type: 'string' },
  probe: { type: 'boolean' },
  'max-binding': { type: 'string' },
  'wall-time': { type: 'boolean' },
  dense: { type: 'boolean' },
  'prompt-tokens': { type: 'string' },
  'decode-tokens': { type: 'string' },
  'no-image': { type: 'boolean' },
} as const;

const KERNEL_ONLY = ['runs', 'reduction', 'probe', 'max-binding', 'wall-time'] as const;
const MODEL_ONLY = ['dense', 'prompt-tokens', 'decode-tokens', 'no-image'] as const;

async function runKernels(values: OptionValues<typeof OPTIONS>): Promise<number> {
  await import('../engine/gpu/shaders.node.ts');
  const { GpuContext } = await import('../engine/gpu/context.ts');
  const { describeAdapter } = await import('../engine/gpu/device.ts');
  const { requestNodeDevice } = await import('../engine/gpu/node.ts');
  const { kernelVariant, probeVariant, useVariant } = await import('../engine/kernels/select.ts');
  const { formatKernelReport, runKernelBench } = await import('../engine/bench/kernels.ts');

  const runs = positiveIntegerOption('runs', values.runs, 15);
  const maxBinding =
    values['max-binding'] === undefined ? undefined : numberOption('max-binding', values['max-binding'], 0, (n) => n > 0, 'a positive number of MiB') * 2 ** 20;
  const reduction = choiceOption('reduction', values.reduction, ['subgroup', 'workgroup'] as const);

  const ctx = new GpuContext(await requestNodeDevice({ maxStorageBufferBindingSize: maxBinding }));
  const json = values.json === true;
  let variant = values.probe ? await probeVariant(ctx) : kernelVariant(ctx);
  if (reduction) {
    variant = { ...variant, reduction, reason: `${reduction} reductions forced by --reduction` };
    useVariant(ctx, variant);
  }
  const adapter = describeAdapter(ctx.handle.summary);
  const wallTime = values['wall-time'] === true;
  if (!json) console.log(`Timing ${runs} runs a kernel on ${adapter}…`);
  const report = await runKernelBench(ctx, adapter, {
    variant,
    runs,
    wallTime,
    onResult: json ? undefined : (r) => console.log(`  ${r.kernel} ${r.rows}×${r.cols}: ${r.medianMs.toFixed(3)} ms`),
  });
  ctx.device.destroy();

  if (json) {
    console.log(JSON.stringify({ adapter: report.adapter, copyGBps: report.copyGBps, results: report.results }));
    return 0;
  }
  const notes = [
    `variant: ${variant.reason}`,
    report.timingMethod === 'timestamp-query'
      ? 'timing: GPU timestamp queries, median of each kernel\'s runs (short kernels repeated within a pass to outlast timestamp rounding)'
      : 'timing: wall clock from submit to onSubmittedWorkDone (no timestamp-query, or --wall-time), which adds submission latency',
  ];
  console.log(`\n${formatKernelReport(report, notes)}`);
  return 0;
}

export const command: Subcommand = {
  summary: 'measure kernel and model speed on this adapter',
  help,
  async run(args) {
    const { values } = parseCommandLine(args, OPTIONS);
    if (values.kernels && values.model !== undefined) throw new UsageError('Give either --kernels or --model <package>, not both.');
    if (values.kernels) {
      const misplaced = MODEL_ONLY.find((name) => values[name] !== undefined);
      if (misplaced) throw new UsageError(`--${misplaced} applies to --model only, not to --kernels.`);
      return runKernels(values);
    }
    if (values.model !== undefined) {
      const misplaced = KERNEL_ONLY.find((name) => values[name] !== undefined);
      if (misplaced) throw new UsageError(`--${misplaced} applies to --kernels only, not to --model.`);
      const { runModelBench } = await import('../engine/bench/model.ts');
      return runModelBench({
        model: values.model,
        dense: values.dense === true,
        json: values.json === true,
        promptTokens: positiveIntegerOption('prompt-tokens', values['prompt-tokens'], 32),
        decodeTokens: positiveIntegerOption('decode-tokens', values['decode-tokens'], 16),
        withImage: values['no-image'] !== true,
      });
    }
    throw new UsageError('Missing --kernels or --model <package>: pass one to choose what to measure.');
  },
};
