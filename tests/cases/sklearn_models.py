"""Tabular baselines: sklearn, xgboost and lightgbm."""

import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import xgboost as xgb
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.svm import SVC


def baselines(X, y, params):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    models = {
        "rf": RandomForestClassifier(
            n_estimators=500, max_depth=8, n_jobs=-1  # expect: MLQ101 MLQ101
        ),
        "rf_old": RandomForestClassifier(200),  # expect: MLQ102
        "svc": SVC(C=10.0, gamma=0.01, kernel="rbf"),  # expect: MLQ101 MLQ101
        "logreg": LogisticRegression(C=params.C, max_iter=params.max_iter),
        "ridge": Ridge(alpha=1.0),  # expect: MLQ101
        "gb": GradientBoostingClassifier(
            learning_rate=0.05, subsample=0.8  # expect: MLQ101 MLQ101
        ),
        "xgb": xgb.XGBClassifier(
            n_estimators=params.n_estimators,
            max_depth=6,  # expect: MLQ101
            learning_rate=params.learning_rate,
            colsample_bytree=0.8,  # expect: MLQ101
        ),
        "lgb": lgb.LGBMClassifier(
            num_leaves=31, reg_alpha=params.reg_alpha  # expect: MLQ101
        ),
    }
    scores = {}
    for name, model in models.items():
        model.fit(X_train, y_train)
        scores[name] = model.score(X_test, y_test)
    return scores


def boosted(dtrain, dvalid, params):
    booster = xgb.train(
        params, dtrain, 1000, evals=[(dvalid, "valid")]  # expect: MLQ102
    )
    gbm = lgb.train(
        params, dtrain, num_boost_round=params["rounds"], valid_sets=[dvalid]
    )
    return booster, gbm


def search(X, y, grid):
    search = GridSearchCV(SVC(), {"C": [0.1, 1, 10], "gamma": [1e-3, 1e-4]}, cv=5)
    search.fit(X, y)
    return search.best_params_


def plot(losses, smoothed):
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(np.arange(len(losses)), losses, alpha=0.3, linewidth=1)
    ax.plot(np.arange(len(smoothed)), smoothed, alpha=0.9)
    ax.set_ylim(0, 2.5)
    fig.savefig("losses.png", dpi=150)
