// A plain Node.js `ws` room server: the peer `baton-load --peer` measures Baton against.
//
// It speaks just enough of Baton's WebSocket protocol (JSON text frames tagged by "type", every
// request answered by an `ack` with its `req_id`) for baton-load's generator to drive it
// unchanged, and does the same fan-out with none of Baton's work (no database, no claims, no
// access rules, no throttle, no slow-consumer limit):
//
// - identity: the `peer_user=<id>` cookie names the socket's user (no login);
// - `open` joins the conversation's room; `subscribe_inbox` joins the "supervisors" group;
// - `typing` fans its draft out, at once, as a `draft` frame carrying the same body (the
//   generator's `t:<ns>` send time) to the other sockets in the room and to every supervisor,
//   then acks; any other request is acked and ignored;
// - presence, by PEER_PRESENCE: `none` (the default) says nothing of who is online — the bare
//   room server, the cheapest possible connect; `naive` does it as a naive room server would: a
//   new socket is sent one `presence` frame listing everyone online, and every other socket is
//   sent one `presence` frame saying it came online, at once (no batching: a storm of N connects
//   sends about N²/2 frames). A closing socket is announced the same way.
//
// Prints "peer is listening on 127.0.0.1:<port>" once ready. Usage: node peer.js [port]

'use strict';

const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const NAIVE_PRESENCE = process.env.PEER_PRESENCE === 'naive';
const rooms = new Map(); // conversation id -> Set of sockets viewing it
const supervisors = new Set();
const online = new Set();

function send(socket, data) {
  if (socket.readyState === WebSocket.OPEN) {
    socket.send(data, { binary: false });
  }
}

function broadcastPresence(except, user, isOnline) {
  if (!NAIVE_PRESENCE) {
    return;
  }
  const frame = Buffer.from(JSON.stringify({ type: 'presence', presence: [{ user, online: isOnline }] }));
  for (const other of online) {
    if (other !== except) {
      send(other, frame);
    }
  }
}

function handle(socket, request) {
  switch (request.type) {
    case 'open': {
      let room = rooms.get(request.conversation_id);
      if (!room) {
        room = new Set();
        rooms.set(request.conversation_id, room);
      }
      room.add(socket);
      socket.rooms.add(request.conversation_id);
      break;
    }
    case 'close':
      rooms.get(request.conversation_id)?.delete(socket);
      socket.rooms.delete(request.conversation_id);
      break;
    case 'subscribe_inbox':
      supervisors.add(socket);
      break;
    case 'typing': {
      const draft = { type: 'draft', conversation_id: request.conversation_id, user: socket.user, body: request.draft };
      const frame = Buffer.from(JSON.stringify(draft));
      const room = rooms.get(request.conversation_id);
      if (room) {
        for (const viewer of room) {
          if (viewer !== socket && !supervisors.has(viewer)) {
            send(viewer, frame);
          }
        }
      }
      for (const supervisor of supervisors) {
        if (supervisor !== socket) {
          send(supervisor, frame);
        }
      }
      break;
    }
    default:
      break;
  }
  send(socket, JSON.stringify({ type: 'ack', req_id: request.req_id }));
}

const server = http.createServer((_, response) => {
  response.writeHead(404);
  response.end();
});
const wss = new WebSocketServer({ server, path: '/ws' });

wss.on('connection', (socket, upgrade) => {
  const cookie = /(?:^|;\s*)peer_user=(\d+)/.exec(upgrade.headers.cookie || '');
  const id = cookie ? Number(cookie[1]) : 0;
  socket.user = { id, name: `user ${id}` };
  socket.rooms = new Set();
  send(socket, JSON.stringify({ type: 'hello', me: socket.user, server_version: 'peer' }));
  online.add(socket);
  if (NAIVE_PRESENCE) {
    const everyone = [];
    for (const other of online) {
      everyone.push({ user: other.user, online: true });
    }
    send(socket, JSON.stringify({ type: 'presence', presence: everyone }));
  }
  broadcastPresence(socket, socket.user, true);

  socket.on('message', (data, isBinary) => {
    let request;
    try {
      request = JSON.parse(isBinary ? '' : data.toString());
    } catch {
      send(socket, JSON.stringify({ type: 'error', code: 'malformed_json', message: 'not JSON' }));
      return;
    }
    handle(socket, request);
  });
  socket.on('close', () => {
    online.delete(socket);
    supervisors.delete(socket);
    for (const conversation of socket.rooms) {
      rooms.get(conversation)?.delete(socket);
    }
    broadcastPresence(socket, socket.user, false);
  });
  socket.on('error', () => {});
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`peer is listening on 127.0.0.1:${server.address().port}`);
});
