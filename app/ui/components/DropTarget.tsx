import { useEffect, useState } from 'react';
import { isModelFile, readDrop } from '../files.ts';
import { useApp } from '../store.ts';

/**
 * Makes the whole window a drop target while files are dragged over it, and routes the drop:
 * a folder or model files load a model, anything else is taken as the photo (and checked).
 * Also takes a pasted image as the photo.
 */
export function DropTarget() {
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    let depth = 0;
    const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files');

    const onEnter = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      setDragging(true);
    };
    const onOver = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const onDrop = (event: DragEvent) => {
      depth = 0;
      setDragging(false);
      if (!event.dataTransfer || !hasFiles(event)) return;
      event.preventDefault();
      void readDrop(event.dataTransfer).then(({ files, folder }) => route(files, folder));
    };
    const onPaste = (event: ClipboardEvent) => {
      const file = Array.from(event.clipboardData?.files ?? [])[0];
      if (!file) return;
      event.preventDefault();
      void useApp.getState().setPhoto(file);
    };

    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, []);

  if (!dragging) return null;
  return (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <p>Drop a photo to ask about it, or model files to load them</p>
    </div>
  );
}

function route(files: File[], folder: boolean): void {
  if (files.length === 0) return;
  const state = useApp.getState();
  if (folder || files.some(isModelFile)) {
    if (state.model.status === 'loading') return;
    void state.loadFromFiles(files);
    return;
  }
  void state.setPhoto(files[0]);
}
