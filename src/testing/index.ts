/**
 * `peerset/testing`: local signalling for tests, demos and offline swarms (Node only).
 * @module peerset/testing
 */
export { startTracker, type StartTrackerOptions, type Tracker } from './tracker.js'
export { startNostrRelay, type NostrRelay, type StartNostrRelayOptions } from './relay.js'
