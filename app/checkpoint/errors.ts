/** Errors of checkpoint reading and conversion. Each message names the input and says what to do. */

/** The input is not a readable checkpoint or package in the format it claims (damaged, truncated, wrong kind of file). */
export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
}

/** The input is well formed but uses something this reader does not support (a legacy format, a dtype, a code global). */
export class UnsupportedCheckpointError extends Error {
  override name = 'UnsupportedCheckpointError';
}

/** The tensors and `config.json` do not describe a model this engine runs (missing tensors, disagreeing shapes, unknown switches). */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

/** A package file's SHA-256 differs from the manifest. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
}
