/**
 * Prompt assembly from the package's chat template (LLaVA "v1"):
 *
 *   system + firstTurn(question 1) + laterTurn(answer 1, question 2) + laterTurn(answer 2, question 3) …
 *
 * The text is split at the template's image placeholder, each piece is tokenized on its own
 * (as LLaVA's `tokenizer_image_token` does), and `IMAGE_TOKEN_ID` marks where the image
 * embeddings go. Only the template's own placeholder counts: `<image>` typed in a question
 * stays text.
 *
 * Reusing the KV cache across turns: a prompt's ids are always a prefix of the next turn's
 * prompt ids. The earlier prompt ends with "ASSISTANT:", the next one continues with
 * " {answer}", and the tokenizer's pre-tokenizer always splits between ":" and a space.
 * The ids the model generated for an answer can differ from the ids of the tokenized answer.
 * The model may pick a non-canonical split of a word, and an answer that ends in punctuation
 * merges with the following "</s>" (".</" is one pre-token). So the engine compares the ids in
 * its cache (prompt plus generated ids) with the next prompt's ids. It keeps the cache up to
 * `sharedPrefixLength` and feeds the rest, which is usually only the last tokens of the answer.
 */
import type { ChatTemplate } from '../checkpoint/manifest.ts';
import type { TextTokenizer } from './tokenizer.ts';

/** Id that marks the image in prompt ids, like LLaVA's IMAGE_TOKEN_INDEX. The model puts the image embeddings there. */
export const IMAGE_TOKEN_ID = -200;

export interface PromptTurn {
  question: string;
  /** The model's answer for a finished turn. The last turn has none. */
  answer?: string;
}

/** A text piece of the prompt: ids[start, end) came from tokenizing `text` on its own. */
export interface PromptPiece {
  text: string;
  start: number;
  end: number;
}

export interface TokenizedPrompt {
  /** Token ids, with one `IMAGE_TOKEN_ID` where the image embeddings go when there is an image. */
  ids: number[];
  /** Index of `IMAGE_TOKEN_ID` in `ids`, or -1 for a text-only prompt. */
  imageIndex: number;
  /** The text pieces in order. An image, when present, is between the first two. */
  pieces: PromptPiece[];
}

/** A conversation that the template cannot express. The message names the turn and the reason. */
export class PromptError extends Error {
  override name = 'PromptError';
}

function fill(template: string, values: Record<string, string>): string {
  // One pass, so a question containing "{answer}" is not filled in again.
  return template.replace(/\{(question|answer)\}/g, (match, key: string) => values[key] ?? match);
}

function checkTurns(turns: readonly PromptTurn[]): void {
  if (turns.length === 0) throw new PromptError('A prompt needs at least one turn with a question.');
  turns.forEach((turn, index) => {
    const last = index === turns.length - 1;
    if (!last && turn.answer === undefined) {
      throw new PromptError(`Turn ${index + 1} of ${turns.length} has no answer. Only the last turn may lack one, so pass the model's answer for every earlier turn.`);
    }
    if (last && turn.answer !== undefined) {
      throw new PromptError(`The last turn (${index + 1}) already has an answer; add a new question to continue.`);
    }
  });
}

/**
 * Builds the prompt text around the image: `[before, after]` when `withImage`, else `[text]`.
 * Joining the parts with the template's image placeholder gives the full prompt text. Earlier
 * answers are trimmed, as LLaVA stores them, because the template puts its own space before.
 */
export function buildPromptText(
  template: ChatTemplate,
  turns: readonly PromptTurn[],
  withImage: boolean,
): string[] {
  checkTurns(turns);
  const later = turns
    .slice(1)
    .map((turn, i) => fill(template.laterTurn, { answer: turns[i]!.answer!.trim(), question: turn.question }))
    .join('');
  if (!withImage) {
    return [template.system + fill(template.firstTurnTextOnly, { question: turns[0]!.question }) + later];
  }
  const split = template.firstTurn.indexOf(template.imageToken);
  if (split < 0 || template.firstTurn.indexOf(template.imageToken, split + 1) >= 0) {
    throw new PromptError(
      `The chat template's firstTurn must contain the image placeholder ${JSON.stringify(template.imageToken)} exactly once, ` +
        `but it is ${JSON.stringify(template.firstTurn)}. Fix chatTemplate.firstTurn in the package manifest.`,
    );
  }
  const before = template.firstTurn.slice(0, split);
  const after = template.firstTurn.slice(split + template.imageToken.length);
  const question = turns[0]!.question;
  return [template.system + fill(before, { question }), fill(after, { question }) + later];
}

/** Tokenizes a conversation as the prompt for the model's next answer. */
export function tokenizePrompt(
  tokenizer: Pick<TextTokenizer, 'encode'>,
  template: ChatTemplate,
  turns: readonly PromptTurn[],
  withImage: boolean,
): TokenizedPrompt {
  const texts = buildPromptText(template, turns, withImage);
  const ids: number[] = [];
  const pieces: PromptPiece[] = [];
  let imageIndex = -1;
  texts.forEach((text, index) => {
    if (index > 0) {
      imageIndex = ids.length;
      ids.push(IMAGE_TOKEN_ID);
    }
    const start = ids.length;
    ids.push(...tokenizer.encode(text));
    pieces.push({ text, start, end: ids.length });
  });
  return { ids, imageIndex, pieces };
}

/**
 * Returns how many leading ids `cached` shares with `next`. `cached` is the ids in the KV cache
 * (an earlier prompt plus the ids generated for it) and `next` is the new prompt. The engine keeps that many cache
 * positions and feeds `next.slice(shared)`. When the whole of `next` is shared, the engine still
 * has to feed its last id again to get logits for the next token.
 */
export function sharedPrefixLength(cached: readonly number[], next: readonly number[]): number {
  const max = Math.min(cached.length, next.length);
  let shared = 0;
  while (shared < max && cached[shared] === next[shared]) shared++;
  return shared;
}
