/** Errors of the model layer. Each message names the failing value and what the user should do. */

/** The package's config or tensors do not describe a model this engine can run (one class with the checkpoint reader's). */
export { ModelConfigError } from '../../checkpoint/errors.ts';

/** The prompt's positions fill or pass the model's context length, so no token can be generated. */
export class ContextOverflowError extends Error {
  override name = 'ContextOverflowError';
  constructor(
    readonly promptTokens: number,
    readonly contextLength: number,
  ) {
    super(
      `The prompt is ${promptTokens} tokens (image embeddings included), which leaves no room in the model's ${contextLength}-token context. ` +
        'Shorten the question or start a new conversation.',
    );
  }
}
