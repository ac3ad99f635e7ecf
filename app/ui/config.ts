/** Build-time settings of the app. */

/**
 * Package URL the model panel starts with, relative to the page unless absolute. Set
 * `VITE_TRIT_MODEL_URL` when building to point at another package, e.g. a converted real model.
 */
export const DEFAULT_MODEL_URL: string = import.meta.env.VITE_TRIT_MODEL_URL || 'models/demo/';

/** localStorage keys. */
export const STORAGE_KEYS = {
  /** The model source last loaded or being downloaded, so a reload can resume or reuse it. */
  lastModel: 'trit.lastModel',
  settings: 'trit.settings',
  modelUrl: 'trit.modelUrl',
} as const;
