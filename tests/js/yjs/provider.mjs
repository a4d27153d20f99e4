// The stock y-websocket WebsocketProvider editing one note on a notesboard server, in node.
// Usage: node provider.mjs ws://HOST:PORT BOARD NOTE_ID
// Syncs, checks the note's text arrived, types "node:" at the start, waits for "py!" typed by the Python
// side, then prints {"synced": text-at-sync, "final": text} as one JSON line and exits 0.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const [base, board, noteId] = process.argv.slice(2)
const doc = new Y.Doc()
const text = doc.getText('text')
const provider = new WebsocketProvider(`${base}/y/${board}`, noteId, doc, { WebSocketPolyfill: WebSocket })
provider.awareness.setLocalStateField('user', { name: 'node' })

const fail = (why) => {
  console.error(why, JSON.stringify(text.toString()))
  process.exit(1)
}
const timer = setTimeout(() => fail('timed out; text is'), 15000)

provider.once('sync', (synced) => {
  if (!synced) fail('not synced')
  const atSync = text.toString()
  text.insert(0, 'node:')
  const check = () => {
    if (text.toString().includes('py!')) {
      text.unobserve(check)
      clearTimeout(timer)
      // Give our last update a moment to leave before closing (nothing more is expected).
      setTimeout(() => {
        console.log(JSON.stringify({ synced: atSync, final: text.toString() }))
        provider.destroy()
        process.exit(0)
      }, 200)
    }
  }
  text.observe(check)
  check()
})
