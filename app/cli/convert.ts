import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpointPath } from '../checkpoint/checkpoint.node.ts';
import { DEFAULT_SHARD_BYTES, convertCheckpoint, type ConvertProgress } from '../checkpoint/convert.ts';
import type { PackageManifest } from '../checkpoint/manifest.ts';
import { DirectorySink, checkOutputFree } from '../checkpoint/sink.node.ts';
import { numberOption, parseCommandLine } from './args.ts';
import type { Subcommand } from './main.ts';

/** The project's copy of the OLMo tokenizer, used when `--tokenizer` is not given. */
export const DEFAULT_TOKENIZER = join(dirname(fileURLToPath(import.meta.url)), '../test/data/tokenizer/tokenizer.json');

const help = `Usage: trit convert <checkpoint> <out-dir> [options]

Converts a LLaVaOLMoBitnet1B checkpoint into a Trit package: manifest.json, safetensors
shards with the BitLinear weights ternarized and packed at 2 bits, the other weights as
f16 (vectors and the vision position embedding as f32), and tokenizer.json.

<checkpoint>  a pytorch_model.bin (PyTorch zip), a .safetensors file, a
              model.safetensors.index.json, or a folder holding one of them.
              config.json is read from the same folder.
<out-dir>     the package folder to create; it must not exist or be empty. The package
              is written to a temporary folder beside it and renamed at the end, so a
              failed conversion leaves nothing behind.

Options:
  --config <file>      config.json to use instead of the one beside the checkpoint
  --tokenizer <file>   tokenizer.json to include (default: the project's copy of the
                       OLMo GPT-NeoX-20B tokenizer)
  --name <text>        package name shown in the app (default: the checkpoint folder name)
  --shard-mb <n>       target shard size in MiB (default ${DEFAULT_SHARD_BYTES / 2 ** 20}); a larger
                       tensor gets a shard of its own
  --random-weights     mark the package as having random weights (answers are noise)
  --quiet              print no progress
  -h, --help           show this help

Progress goes to stderr; the summary to stdout.`;

function formatProgress(p: ConvertProgress, started: number): string {
  const seconds = (performance.now() - started) / 1000;
  const percent = p.bytesTotal ? ((100 * p.bytesRead) / p.bytesTotal).toFixed(0) : '100';
  return `[${p.done}/${p.total}] ${percent.padStart(3)}% ${seconds.toFixed(1)}s ${p.tensor}`;
}

export interface ConvertPathOptions {
  config?: string;
  tokenizer?: string;
  name?: string;
  shardBytes?: number;
  randomWeights?: boolean;
  onProgress?: (progress: ConvertProgress) => void;
  onWarning?: (message: string) => void;
  onNote?: (message: string) => void;
}

/** Converts the checkpoint at `checkpointPath` into a package folder `outDir`. */
export async function convertPath(checkpointPath: string, outDir: string, options: ConvertPathOptions = {}): Promise<PackageManifest> {
  await checkOutputFree(outDir);
  const tokenizerPath = options.tokenizer ?? DEFAULT_TOKENIZER;
  const tokenizer = new Uint8Array(
    await readFile(tokenizerPath).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`Cannot read the tokenizer ${tokenizerPath} (${error.code ?? error.message}); pass --tokenizer <tokenizer.json>.`);
    }),
  );
  const opened = await openCheckpointPath(checkpointPath);
  try {
    let config = opened.config;
    if (options.config) {
      const configPath = options.config;
      const text = await readFile(configPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(`Cannot read --config ${configPath} (${error.code ?? error.message}); check the path, or omit --config to use the config.json beside the checkpoint.`);
      });
      try {
        config = JSON.parse(text);
      } catch (error) {
        throw new Error(`--config ${configPath} is not valid JSON (${(error as Error).message}); fix the file or pass the checkpoint's own config.json.`);
      }
    }
    if (config === null) options.onWarning?.(`No config.json beside ${opened.path}; the published model's settings are assumed.`);
    const sink = await DirectorySink.create(outDir);
    return await convertCheckpoint(opened.checkpoint, config, sink, {
      name: options.name ?? dirname(opened.path).split(/[\\/]/).pop() ?? 'checkpoint',
      tokenizer,
      randomWeights: options.randomWeights,
      shardBytes: options.shardBytes,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
      onNote: options.onNote,
    });
  } finally {
    await opened.checkpoint.close();
  }
}

export const command: Subcommand = {
  summary: 'convert a checkpoint into a Trit package',
  help,
  async run(args) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        config: { type: 'string' },
        tokenizer: { type: 'string' },
        name: { type: 'string' },
        'shard-mb': { type: 'string' },
        'random-weights': { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      { names: ['<checkpoint>', '<out-dir>'], usage: 'trit convert <checkpoint> <out-dir> [options]' },
    );
    const shardMb = numberOption('shard-mb', values['shard-mb'], DEFAULT_SHARD_BYTES / 2 ** 20, (n) => n > 0, 'a positive number of MiB');
    const shardBytes = Math.round(shardMb * 2 ** 20);

    const [checkpoint, outDir] = positionals;
    const started = performance.now();
    const manifest = await convertPath(checkpoint, outDir, {
      config: values.config,
      tokenizer: values.tokenizer,
      name: values.name,
      shardBytes,
      randomWeights: values['random-weights'],
      onProgress: values.quiet ? undefined : (p) => process.stderr.write(formatProgress(p, started) + '\n'),
      onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
      onNote: values.quiet ? undefined : (message) => process.stderr.write(`note: ${message}\n`),
    });
    const bytes = manifest.shards.reduce((sum, s) => sum + s.bytes, 0) + manifest.tokenizer.bytes;
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `Wrote ${outDir}: ${Object.keys(manifest.tensors).length} tensors in ${manifest.shards.length} shards, ` +
        `${(bytes / 1e6).toFixed(1)} MB, in ${seconds.toFixed(1)} s.`,
    );
    return 0;
  },
};
