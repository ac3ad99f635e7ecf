import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRESETS, randomConfig, randomTensors } from '../checkpoint/random-checkpoint.ts';
import { checkOutputFree } from '../checkpoint/sink.node.ts';
import { writeTorchCheckpoint } from '../checkpoint/torch-writer.node.ts';
import { choiceOption, numberOption, parseCommandLine } from './args.ts';
import type { Subcommand } from './main.ts';

const help = `Usage: trit make-checkpoint <out-dir> [options]

Writes a random checkpoint in the published LLaVaOLMoBitnet1B layout: <out-dir>/pytorch_model.bin
(a PyTorch zip of bf16 tensors, named with the published file's prefixes, lm_head included)
and <out-dir>/config.json. Its generated text is noise: it is for tests, benchmarks and the demo.
config.json marks the weights as random ("trit_random_weights": true), so \`trit convert\`
labels the package as having random weights.

Options:
  --preset <name>   full: the real shapes (16 layers, d_model 2048, CLIP ViT-L/14-336 with
                    24 layers), 3.18 GB on disk
                    tiny: the real vocabulary (50304 embedding rows) and image size (336,
                    patch 14) with tiny widths (d_model 64, 2 layers, CLIP width 64, 3 layers),
                    about 13 MB (default)
  --seed <n>        seed of the random values, an integer (default 0); the same seed gives
                    the same file
  --quiet           print no progress
  -h, --help        show this help

The output folder must not exist or be empty.`;

export const command: Subcommand = {
  summary: 'write a random checkpoint in the real layout',
  help,
  async run(args) {
    const { values, positionals } = parseCommandLine(
      args,
      { preset: { type: 'string' }, seed: { type: 'string' }, quiet: { type: 'boolean' } },
      { names: ['<out-dir>'], usage: 'trit make-checkpoint <out-dir> [options]' },
    );
    const presetNames = Object.keys(PRESETS) as (keyof typeof PRESETS)[];
    const preset = choiceOption('preset', values.preset, presetNames, 'tiny');
    const seed = numberOption('seed', values.seed, 0, Number.isSafeInteger, 'an integer');

    const [outDir] = positionals;
    await checkOutputFree(outDir);
    await mkdir(outDir, { recursive: true });
    const shape = PRESETS[preset];
    const tensors = randomTensors(shape, seed);
    const started = performance.now();
    // Written under a temporary name and renamed, so an interrupted run leaves no checkpoint that looks complete.
    const partial = join(outDir, 'pytorch_model.bin.partial');
    try {
      await writeTorchCheckpoint(partial, tensors, {
        root: 'pytorch_model',
        onTensor: (name, index) => {
          if (!values.quiet) process.stderr.write(`[${index + 1}/${tensors.length}] ${((performance.now() - started) / 1000).toFixed(1)}s ${name}\n`);
        },
      });
      await rename(partial, join(outDir, 'pytorch_model.bin'));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    await writeFile(join(outDir, 'config.json'), JSON.stringify(randomConfig(shape), null, 2) + '\n');
    const params = tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
    console.log(`Wrote ${outDir}: ${tensors.length} tensors, ${(params / 1e6).toFixed(1)} M parameters, in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    return 0;
  },
};
