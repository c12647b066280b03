"""Answers from a video LVLM adapter: greedy generation from prompts or whole chats, and answers scored by
likelihood (lm-eval's `loglikelihood`, multiple choice). Mixed into `models.common.HFVideoAdapter`."""

from __future__ import annotations

from typing import Any

from PIL import Image

from models.base import IGNORE, Sample


class GenerationMixin:
    """Needs the adapter's `collate`, `encode`, `_videos`, `video_inputs`, `extra_inputs`, `to_device`."""

    model: Any
    tokenizer: Any

    def generate(self, frames: list[list[Image.Image]], prompts: list[str], max_new_tokens: int = 32,
                 answer_prefix: str = "", system: str | None = None, **gen_kwargs: Any) -> list[str]:
        """Batched greedy answers; `answer_prefix` (e.g. "Best option:(") is appended after the
        assistant's generation prompt and not returned; `system` adds a system turn."""
        head = [{"role": "system", "content": system}] if system else []
        samples = [Sample(frames=f, messages=head + [{"role": "user", "content": p}], id=str(i))
                   for i, (f, p) in enumerate(zip(frames, prompts, strict=True))]
        return self.generate_chats(samples, max_new_tokens=max_new_tokens, answer_prefix=answer_prefix, **gen_kwargs)

    def generate_chats(self, samples: list[Sample], max_new_tokens: int = 32, answer_prefix: str = "",
                       **gen_kwargs: Any) -> list[str]:
        """Greedy (unless gen_kwargs say otherwise) continuation of each chat after the generation
        prompt + `answer_prefix`; returns only the new text."""
        import torch

        batch = self.to_device(self.collate(samples, train=False, answer_prefix=answer_prefix))
        kwargs = {"max_new_tokens": max_new_tokens, "do_sample": False,
                  "pad_token_id": self.tokenizer.pad_token_id, **gen_kwargs}
        if self.tokenizer.eos_token_id is not None:
            kwargs.setdefault("eos_token_id", self.tokenizer.eos_token_id)
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            out = self.model.generate(**batch, **kwargs)
        self.model.train(was_training)
        new = out[:, batch["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def option_logprobs(self, frames: list[list[Image.Image]], prompts: list[str], options: list[list[str]],
                        batch_size: int = 16) -> list[list[float]]:
        """Multiple-choice scoring by likelihood: for each prompt, the summed log-probability of each
        option as the whole assistant turn (see `answer_logprobs`)."""
        flat = [(i, o) for i, opts in enumerate(options) for o in opts]
        scored = self.answer_logprobs([frames[i] for i, _ in flat], [prompts[i] for i, _ in flat],
                                      [o for _, o in flat], batch_size)
        out: list[list[float]] = [[] for _ in prompts]
        for (i, _), (logprob, _) in zip(flat, scored):
            out[i].append(logprob)
        return out

    def answer_logprobs(self, frames: list[list[Image.Image]], prompts: list[str], answers: list[str],
                        batch_size: int = 16) -> list[tuple[float, bool]]:
        """lm-eval's `loglikelihood` for chats: per (frames, user prompt, answer), the summed log-probability
        of the answer as the whole assistant turn - end-of-turn marker included, so "red" and "red coat"
        are told apart; exactly minus the training loss of that answer - and whether greedy decoding
        would produce it."""
        import torch

        rows = []
        for i, (f, p, a) in enumerate(zip(frames, prompts, answers, strict=True)):
            chat = [{"role": "user", "content": p}, {"role": "assistant", "content": a}]
            enc = self.encode(Sample(f, chat, f"{i}/answer"), train=True)
            rows.append((f, enc["input_ids"], enc["labels"]))
        scores: list[tuple[float, bool]] = []
        was_training = self.model.training
        self.model.eval()
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            width = max(len(ids) for _, ids, _ in chunk)
            ids = torch.full((len(chunk), width), self.tokenizer.pad_token_id, dtype=torch.long)
            labels = torch.full_like(ids, IGNORE)
            mask = torch.zeros_like(ids)
            for r, (_, row_ids, row_labels) in enumerate(chunk):
                ids[r, :len(row_ids)] = torch.tensor(row_ids)
                labels[r, :len(row_ids)] = torch.tensor(row_labels)
                mask[r, :len(row_ids)] = 1
            batch = {"input_ids": ids, "attention_mask": mask}
            videos = self._videos([Sample(f, [], f"{start + r}/answer") for r, (f, _, _) in enumerate(chunk)])
            if videos:
                batch.update(self.video_inputs(videos))
            batch.update(self.extra_inputs(ids))
            # logits only where some row's answer is scored (as training's loss): the LM head and the
            # softmax over the vocabulary at every prompt and visual token were most of this call's time
            cols = (labels[:, 1:] != IGNORE).any(0).nonzero()[:, 0]
            with torch.no_grad():
                out = self.model(**self.to_device(batch), use_cache=False, logits_to_keep=cols.to(self.model.device))
            logp = torch.log_softmax(out.logits.float().cpu(), dim=-1)
            target = labels[:, 1:][:, cols]
            keep = target != IGNORE
            picked = logp.gather(2, target.clamp(min=0)[..., None])[..., 0] * keep
            greedy = ((logp.argmax(-1) == target) | ~keep).all(-1)
            scores += [(float(picked[r].sum()), bool(greedy[r])) for r in range(len(chunk))]
        self.model.train(was_training)
        return scores
