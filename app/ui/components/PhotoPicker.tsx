import { useRef } from 'react';
import { PHOTO_ACCEPT, PHOTO_TYPE_NAMES } from '../files.ts';
import { useApp } from '../store.ts';

export function PhotoPicker() {
  const photo = useApp((state) => state.photo);
  const notice = useApp((state) => state.photoNotice);
  const generating = useApp((state) => state.generating !== null);
  const actions = useApp.getState();
  const input = useRef<HTMLInputElement>(null);

  return (
    <section className="photo" aria-label="Photo">
      {photo ? (
        <figure className="thumb">
          <img src={photo.url} alt={`Your photo: ${photo.file.name}`} data-testid="photo-thumb" />
          <figcaption>
            <span className="small">
              {photo.file.name} · {photo.width}×{photo.height}
            </span>
            <span className="row">
              <button type="button" onClick={() => input.current?.click()} disabled={generating}>
                Replace
              </button>
              <button type="button" onClick={actions.removePhoto} disabled={generating}>
                Remove
              </button>
            </span>
          </figcaption>
        </figure>
      ) : (
        <div className="photo-empty">
          <p>
            Drop a photo anywhere on the page, paste one (<kbd>Ctrl</kbd>+<kbd>V</kbd>), or{' '}
            <button type="button" className="link" onClick={() => input.current?.click()}>
              choose a file
            </button>
            .
          </p>
          <p className="small">{PHOTO_TYPE_NAMES} photos work.</p>
        </div>
      )}
      <input
        ref={input}
        type="file"
        accept={PHOTO_ACCEPT}
        hidden
        data-testid="photo-input"
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) void actions.setPhoto(file);
        }}
      />
      {notice && (
        <p className={notice.kind === 'error' ? 'notice error' : 'notice'} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="photo-notice">
          {notice.text}{' '}
          <button type="button" className="link" onClick={actions.dismissPhotoNotice} aria-label="Dismiss message">
            Dismiss
          </button>
        </p>
      )}
    </section>
  );
}
