/** `trit generate`: answers one question about an optional photo with a converted package. */
import { writeFile } from 'node:fs/promises';
import { openPackage } from '../checkpoint/package.node.ts';
import '../engine/gpu/shaders.node.ts';
import { GpuContext } from '../engine/gpu/context.ts';
import { requestNodeDevice } from '../engine/gpu/node.ts';
import { createCodec } from '../engine/model/codec.ts';
import { Generator } from '../engine/model/generator.ts';
import { tokenizePrompt } from '../tokenizer/prompt.ts';
import { createGpuRunner } from '../engine/model/gpu-runner.ts';
import { CHAT_DEFAULTS } from '../worker/protocol.ts';
import { UsageError, numberOption, parseCommandLine, positiveIntegerOption } from './args.ts';
import type { Subcommand } from './main.ts';

const HELP = `Usage: trit generate --model <package dir or URL> [--image <file>] --prompt <text> [options]

Answers --prompt about --image (or as a text-only question without it) and streams the answer.
Decoding is greedy by default, so a run is repeatable; the app's chat defaults are
--temperature ${CHAT_DEFAULTS.temperature} --top-p ${CHAT_DEFAULTS.topP} --max-new-tokens ${CHAT_DEFAULTS.maxNewTokens}.

Options:
  --model <dir|URL>        Converted package (the folder \`trit convert\` wrote, or its URL).
  --image <file>           PNG or JPEG photo the question is about.
  --prompt <text>          The question.
  --max-new-tokens <N>     Tokens to generate at most (default 256).
  --temperature <T>        Sampling temperature; 0 (the default) is greedy.
  --top-p <P>              Nucleus mass kept when sampling, in (0, 1] (default 1).
  --seed <S>               Sampling seed, an unsigned 32-bit integer (default 0).
  --json                   Print one JSON object (promptIds with -200 at the image, tokens,
                           text, stopReason, timings in ms) instead of streaming the answer.
  --dump-logits <file>     Write the raw logits that chose each generated token: little-endian
                           float32, one row of embedding-size values per token.
  --help                   Show this help.`;

export const command: Subcommand = {
  summary: 'answer a question about a photo with a converted package',
  help: HELP,
  async run(args) {
    const { values } = parseCommandLine(args, {
      model: { type: 'string' },
      image: { type: 'string' },
      prompt: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      'dump-logits': { type: 'string' },
    });
    if (!values.model) throw new UsageError('--model is required: pass the folder that `trit convert` wrote.');
    if (values.prompt === undefined) throw new UsageError('--prompt is required: pass the question to answer.');
    const maxNewTokens = positiveIntegerOption('max-new-tokens', values['max-new-tokens'], 256);
    const temperature = numberOption('temperature', values.temperature, 0, (n) => n >= 0, 'a number ≥ 0');
    const topP = numberOption('top-p', values['top-p'], 1, (n) => n > 0 && n <= 1, 'a number in (0, 1]');
    const seed = numberOption('seed', values.seed, 0, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, 'an integer from 0 to 4294967295');

    const source = await openPackage(values.model);
    const { manifest } = source;
    if (manifest.randomWeights) {
      console.error(`trit generate: note: the package "${manifest.name}" has random weights, so its answers are noise. Convert the published checkpoint for real answers.`);
    }
    const template = manifest.chatTemplate;
    let pixels: Float32Array | undefined;
    if (values.image) {
      const { preprocessImageFile } = await import('../image/preprocess.node.ts');
      pixels = await preprocessImageFile(values.image, manifest.model.image);
    }
    const codec = createCodec(await source.readTokenizer());

    const ctx = new GpuContext(await requestNodeDevice());
    const runner = await createGpuRunner(ctx, source, { onWarning: (m) => console.error(`trit generate: ${m}`) });
    try {
      const generator = new Generator(runner, codec);
      const imageEncodeMs = pixels ? await generator.setImage(values.image, async () => pixels) : 0;
      const { ids } = tokenizePrompt(codec, template, [{ question: values.prompt }], pixels !== undefined);
      const result = await generator.generate(
        ids,
        {
          sampling: { temperature, topP, seed },
          maxNewTokens,
          stopText: template.stopText,
          keepLogits: values['dump-logits'] !== undefined,
          onText: values.json ? undefined : (delta) => process.stdout.write(delta),
        },
        imageEncodeMs,
      );
      if (values['dump-logits']) {
        const rows = result.logits ?? [];
        const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
        let at = 0;
        for (const r of rows) {
          out.set(r, at);
          at += r.length;
        }
        await writeFile(values['dump-logits'], new Uint8Array(out.buffer));
      }
      if (values.json) {
        const t = result.timings;
        const timings = {
          imageEncodeMs: t.imageEncodeMs,
          prefillMs: t.prefillMs,
          decodeMs: t.decodeMs,
          firstTokenMs: t.firstTokenMs,
          promptTokens: t.promptTokens,
          decodeTokensPerS: t.decodeTokensPerS,
        };
        console.log(JSON.stringify({ promptIds: result.promptIds, tokens: result.tokens, text: result.text, stopReason: result.stopReason, timings }));
      } else {
        process.stdout.write('\n');
      }
      return 0;
    } finally {
      runner.destroy();
    }
  },
};
