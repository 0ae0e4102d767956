"""A Lightning + Hugging Face fine-tuning script with config and without."""

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments
from transformers import get_linear_schedule_with_warmup


class LitClassifier(pl.LightningModule):
    def __init__(self, backbone, num_classes=10, lr=3e-4, dropout=0.1):
        super().__init__()
        self.save_hyperparameters(ignore=["backbone"])
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(768, num_classes))
        self.extra = nn.Dropout(p=0.2)  # architecture: dropout inside a model class

    def forward(self, x):
        h = self.backbone(x)
        h = F.dropout(h, 0.1, training=self.training)  # architecture, as above
        return self.head(F.layer_norm(h, h.shape[-1:], eps=1e-5))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=self.hparams.label_smoothing)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            self.parameters(),
            lr=self.hparams.lr,
            betas=(0.9, 0.98),  # expect: MLQ101
            eps=1e-6,  # expect: MLQ101
        )
        scheduler = get_linear_schedule_with_warmup(
            optimizer, 500, self.trainer.estimated_stepping_batches  # expect: MLQ102
        )
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]


def fit(cfg, model, datamodule):
    trainer = pl.Trainer(
        max_epochs=cfg.trainer.max_epochs,
        accelerator="auto",
        devices="auto",
        gradient_clip_val=cfg.trainer.gradient_clip_val,
        precision="16-mixed",
    )
    trainer.fit(model, datamodule=datamodule)


def quick_fit(model, datamodule):
    trainer = pl.Trainer(
        max_epochs=3,  # expect: MLQ101
        accelerator="gpu",  # expect: MLQ202
        gradient_clip_val=1.0,  # expect: MLQ101
        accumulate_grad_batches=4,  # expect: MLQ101
        log_every_n_steps=50,
    )
    trainer.fit(model, datamodule=datamodule)


def finetune(train_ds, eval_ds, output_dir, hparams):
    model = AutoModelForSequenceClassification.from_pretrained(
        "bert-base-uncased", num_labels=2
    )
    args = TrainingArguments(
        output_dir,
        learning_rate=2e-5,  # expect: MLQ101
        per_device_train_batch_size=16,  # expect: MLQ101
        per_device_eval_batch_size=hparams["eval_batch_size"],
        num_train_epochs=3,  # expect: MLQ101
        weight_decay=0.01,  # expect: MLQ101
        warmup_ratio=hparams.get("warmup_ratio", 0.06),
        logging_steps=10,
        seed=42,
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds
    )
    trainer.train()
    return trainer
