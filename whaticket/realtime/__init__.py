"""Socket.IO: auth, rooms and deferred emits."""
