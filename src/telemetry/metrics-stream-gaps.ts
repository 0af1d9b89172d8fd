/** The chunk-gap summary lives in core (the record carries it); metrics read it from there. */
export { STREAM_GAP_BOUNDS_MS, StreamGapMeter, type StreamGapSummary } from '../core/stream-gaps.js';
