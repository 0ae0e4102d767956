# ruff: noqa
# Fixture of MLQ103 hardcoded-loop-bound, checked with MLQ103 alone.
# `# expect: CODE:COLUMN` marks each finding on its line; unmarked lines have none.
from tqdm import tqdm, trange

for epoch in range(90):  # expect: MLQ103:20
    pass
for step in trange(10_000):  # expect: MLQ103:20
    pass
for epoch in tqdm(range(1, 91)):  # expect: MLQ103:28
    pass
for i, epoch in enumerate(range(5)):  # expect: MLQ103:33
    pass
global_step = 0
while global_step < 100_000:  # expect: MLQ103:21
    global_step += 1


async def train():
    async for it in arange(3):
        pass
    for update in range(2 * 50):  # expect: MLQ103:25
        pass


# Not epoch/step loops, or not literal bounds:
for i in range(3):
    pass
for epoch in range(args.epochs):
    pass
for step in range(len(batch)):
    pass
while step < max_steps:
    step += 1
while step > 10:
    step -= 1


# A loop whose body takes a training step, whatever its variable:
for _ in range(10):  # expect: MLQ103:16
    loss = model(x).sum()
    loss.backward()
    optimizer.step()
for i in range(4):  # expect: MLQ103:16
    train_one_epoch(model)
for _ in range(3):
    print("not training")
