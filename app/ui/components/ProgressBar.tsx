import type { LoadProgress } from '../../worker/protocol.ts';
import { formatBytes, formatDuration, formatRate, percent, secondsLeft } from '../format.ts';

const PHASES: Record<LoadProgress['phase'], string> = {
  download: 'Downloading',
  verify: 'Verifying',
  convert: 'Converting',
  upload: 'Uploading to the GPU',
};

export function ProgressBar({ progress, paused }: { progress?: LoadProgress; paused?: boolean }) {
  if (!progress) {
    return (
      <div className="progress">
        <progress aria-label="Model loading" />
        <p className="muted">{paused ? 'Paused.' : 'Starting…'}</p>
      </div>
    );
  }
  const { bytesDone, bytesTotal, bytesPerSecond, phase, shard } = progress;
  const pct = percent(bytesDone, bytesTotal);
  const phaseName = paused ? 'Paused' : PHASES[phase];
  return (
    <div className="progress">
      <progress max={100} value={pct} aria-label={`${phaseName}: ${pct}%`} />
      <p className="progress-line" data-testid="progress-line">
        <strong>{phaseName}</strong> {formatBytes(bytesDone)} of {formatBytes(bytesTotal)} · {pct}%
        {!paused && phase === 'download' && (
          <>
            {' '}· {formatRate(bytesPerSecond)} · {formatDuration(secondsLeft(bytesDone, bytesTotal, bytesPerSecond))} left
          </>
        )}
      </p>
      {shard && !paused && <p className="muted small">{shard.file}: {formatBytes(shard.bytesDone)} of {formatBytes(shard.bytesTotal)}</p>}
    </div>
  );
}
