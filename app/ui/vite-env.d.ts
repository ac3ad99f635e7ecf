/// <reference types="vite/client" />
/// <reference types="vite-plugin-pwa/client" />

interface ImportMetaEnv {
  /** Package URL the model panel starts with; see `app/ui/config.ts`. */
  readonly VITE_TRIT_MODEL_URL?: string;
}
