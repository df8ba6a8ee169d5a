// A chat's name for the settings' lists (muted chats, recent decisions): from the loaded list,
// else asked for once; "#<id>" until it is known. `onName` is called when a name arrives.

import * as api from "./api.js";
import { state } from "./state.js";

const names = new Map(); // user_id -> name, for chats not in the loaded list

export function nameOf(userId, onName = () => {}) {
  const chat = state.chats.get(userId);
  if (chat) return chat.name;
  if (names.has(userId)) return names.get(userId);
  names.set(userId, `#${userId}`);
  api.getChat(userId).then(
    (c) => {
      if (c) {
        names.set(userId, c.name);
        onName();
      }
    },
    () => {},
  );
  return `#${userId}`;
}
