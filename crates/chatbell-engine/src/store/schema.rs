//! The schema, as an ordered list of migrations. `PRAGMA user_version` records how many have
//! been applied; each runs once, in a transaction, in order. Never edit a released migration:
//! add the next one.

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    -- Every frame as received, parsed or not: the raw event log. Nothing the server sends is lost.
    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,          -- ms since the Unix epoch, UTC
        kind        TEXT,                      -- event name; NULL when the frame did not parse
        user_id     INTEGER,
        ts          INTEGER,                   -- the envelope's timestamp, ms UTC
        ts_quality  INTEGER,                   -- 0 given, 1 missing, 2 invalid
        error       TEXT,                      -- why the frame was rejected
        frame       TEXT NOT NULL
    );

    CREATE TABLE chats (
        user_id     INTEGER PRIMARY KEY,
        user_name   TEXT,
        username    TEXT,
        source      TEXT,
        created_at  INTEGER NOT NULL,
        last_seq    INTEGER NOT NULL DEFAULT 0,  -- newest message
        read_seq    INTEGER NOT NULL DEFAULT 0,  -- the agent has seen messages up to here
        unread      INTEGER NOT NULL DEFAULT 0   -- messages with seq > read_seq; kept by triggers
    );
    CREATE INDEX chats_by_activity ON chats(last_seq DESC);

    -- The unread total across chats, kept by triggers whenever any chat's count changes, so
    -- the tray badge never needs a scan (and no writer, this one or `chatbell-cli read`, can
    -- forget to update it). Chats are created with no unread messages (their first ones arrive
    -- through an UPDATE), so inserting needs no trigger; keeping it that way matters: a
    -- trigger makes every insert open a savepoint, and FTS5 flushes its pending index at each.
    CREATE TABLE totals (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        unread INTEGER NOT NULL
    );
    INSERT INTO totals (id, unread) VALUES (1, 0);
    CREATE TRIGGER chats_unread_changed AFTER UPDATE OF unread ON chats WHEN new.unread != old.unread BEGIN
        UPDATE totals SET unread = unread + new.unread - old.unread WHERE id = 1;
    END;
    CREATE TRIGGER chats_deleted AFTER DELETE ON chats WHEN old.unread != 0 BEGIN
        UPDATE totals SET unread = unread - old.unread WHERE id = 1;
    END;

    -- seq is the local receive order; message_id the server's id (NULL for a new_chat's first
    -- message, which the protocol sends without one).
    CREATE TABLE messages (
        seq         INTEGER PRIMARY KEY,
        message_id  INTEGER UNIQUE,
        user_id     INTEGER NOT NULL,
        text        TEXT,
        file_path   TEXT,
        sent_at     INTEGER NOT NULL,
        ts_quality  INTEGER NOT NULL,
        received_at INTEGER NOT NULL
    );
    CREATE INDEX messages_by_chat ON messages(user_id, seq);
    CREATE UNIQUE INDEX first_message_per_chat ON messages(user_id) WHERE message_id IS NULL;

    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content = 'messages', content_rowid = 'seq',
        tokenize = 'unicode61 remove_diacritics 2'
    );

    -- The unread count is a function of the messages table, kept in the same transaction as
    -- the rows it counts, so it cannot drift from them: the writer adds each batch's new
    -- messages per chat (one UPDATE per chat per batch, not per message), and this trigger
    -- takes deleted ones off.
    -- The index folds ё into е (unicode61 folds Latin diacritics only; Russian writers use
    -- both spellings); one character for one, so snippet offsets still match the text. The
    -- writer folds inserted text the same way.
    CREATE TRIGGER messages_deleted AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text)
            VALUES ('delete', old.seq, replace(replace(old.text, 'ё', 'е'), 'Ё', 'Е'));
        UPDATE chats SET unread = unread - (old.seq > read_seq) WHERE user_id = old.user_id;
    END;

    CREATE TABLE read_receipts (
        user_id              INTEGER PRIMARY KEY,
        last_read_message_id INTEGER NOT NULL,
        at                   INTEGER NOT NULL
    );

    CREATE TABLE presence (
        user_id INTEGER PRIMARY KEY,
        online  INTEGER NOT NULL,
        at      INTEGER NOT NULL
    );

    -- Stretches without a connection: events sent meanwhile are lost (no replay).
    CREATE TABLE gaps (
        id      INTEGER PRIMARY KEY,
        from_at INTEGER NOT NULL,
        to_at   INTEGER NOT NULL
    );
    CREATE INDEX gaps_by_time ON gaps(from_at);

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: snoozing, and finding the waiting chats without a scan.
    r#"
    -- The agent snoozed the chat until then (ms UTC); reminders about it wait until that time.
    ALTER TABLE chats ADD COLUMN snoozed_until INTEGER;
    -- Chats with messages the agent has not opened: the tray's "waiting" line and the reminders
    -- read them on every change, so they must not cost a scan of every chat.
    CREATE INDEX chats_waiting ON chats(user_id) WHERE unread > 0;
    "#,
    // 3: forwarding's record, for `doctor` and the diagnostics across restarts.
    r#"
    -- How each forward to a phone, a webhook or a lead ended (`forwarder`): the record as
    -- JSON (`ForwardRecord`, never a secret). The newest 200 are kept.
    CREATE TABLE forwards (
        id     INTEGER PRIMARY KEY,
        at     INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    "#,
];

/// The schema version this build writes.
pub const VERSION: usize = MIGRATIONS.len();
