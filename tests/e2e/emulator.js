// Starts telegram-test-api on 127.0.0.1:<port> with its gaps against the real Bot API filled,
// so that the bot under test needs no special case: getMe with is_bot, callback queries with
// chat_instance and a dated message, message dates in seconds, and files sent on by their id
// (sendPhoto, sendVoice... with a file id, as the bot relays what people send). Prints "ready"
// once listening.
'use strict';

const express = require('express');
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2]);
const seconds = (ms) => Math.floor(ms / 1000);

const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (update) => {
  const formatted = formatUpdate(update);
  const now = seconds(Date.now());
  if (formatted.callback_query) {
    const query = formatted.callback_query;
    query.chat_instance = query.chat_instance || String(query.from.id);
    const message = { ...(query.message || {}) };
    delete message.botToken;
    message.message_id = message.message_id || update.messageId;
    message.date = message.date || now;
    query.message = message;
  } else if (formatted.message) {
    delete formatted.message.botToken;
    formatted.message.date = formatted.message.date || now;
  }
  return formatted;
};

const addBotMessage = TelegramServer.prototype.addBotMessage;
TelegramServer.prototype.addBotMessage = function addBotMessageInSeconds(raw, token) {
  const message = addBotMessage.call(this, raw, token);
  message.date = seconds(message.date);
  return message;
};

// The field each file method carries, and the object Telegram gives back for it.
const FILE_METHODS = {
  sendPhoto: ['photo', (file) => [{ ...file, width: 1280, height: 960 }]],
  sendVoice: ['voice', (file) => ({ ...file, duration: 3 })],
  sendAudio: ['audio', (file) => ({ ...file, duration: 3 })],
  sendVideo: ['video', (file) => ({ ...file, width: 640, height: 480, duration: 3 })],
  sendDocument: ['document', (file) => file],
};

function sendFileById(server) {
  return (req, res, next) => {
    const [field, shape] = FILE_METHODS[req.params.method] || [];
    const fileId = field && req.body ? req.body[field] : undefined;
    // An upload (multipart) is not a file id: left to the emulator, which has no uploads.
    if (typeof fileId !== 'string' || !req.body.chat_id) {
      next();
      return;
    }
    const raw = { ...req.body, [field]: shape({ file_id: fileId, file_unique_id: fileId }) };
    res.json({ ok: true, result: server.addBotMessage(raw, req.params.token) });
  };
}

async function main() {
  const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
  const outer = express();
  outer.all('/bot:token/getMe', (req, res) => {
    res.json({
      ok: true,
      result: { id: 666, is_bot: true, first_name: 'Hotline', username: 'HotlineTestBot' },
    });
  });
  const forms = [express.json(), express.urlencoded({ extended: true })];
  outer.post('/bot:token/:method', ...forms, sendFileById(server));
  outer.use(server.webServer);
  server.webServer = outer;
  await server.start();
  process.stdout.write('ready\n');
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
