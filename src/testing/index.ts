/**
 * `peerset/testing`: local signalling for tests, demos and offline swarms (Node only).
 * @packageDocumentation
 */
export { startTracker, type StartTrackerOptions, type Tracker } from './tracker.js'
