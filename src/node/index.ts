/**
 * `peerset/node`: what a Node process needs to be a full peer: WebRTC ({@link nodeRtc}) and a durable
 * store ({@link levelStorage}). Never part of the browser bundle.
 * @module peerset/node
 */
export { nodeRtc, type NodeRtc, type NodeRtcOptions } from './rtc.js'
export { levelStorage, type LevelStorageOptions } from './level.js'
