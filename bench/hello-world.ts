/** The baseline of the licence check (bench/cluster.ts): an Express hello-world route, one per process. */
import express from 'express';

const app = express();
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});
app.listen(Number(process.env.PORT));
