// The peer for the session workloads: express with express-session's default memory store.
import express from 'express';
import session from 'express-session';

const app = express();
app.use(session({ secret: 'bench', name: 'sessionId', resave: false, saveUninitialized: true }));
const page = (req, res) => {
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.type('html').send(`<p>visit number ${req.session.visits}</p>\n`);
};
app.get('/counter', page);
app.get('/new-session', page);
app.get('/hello', (req, res) => res.type('html').send('<h1>Hello world</h1>\n'));
const server = app.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
