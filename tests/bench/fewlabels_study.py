#!/usr/bin/env python3
"""Few labels on the Chinese set (issue 14), the study behind LoopDeck's pool representation:
scikit-learn stand-ins, not LoopDeck itself. Needs the data of tests/bench/train_bench.sh
(BENCH_FETCH_ONLY=1 is enough) and Debian's python3-sklearn.
Sparse block : char 1-3-gram TF-IDF, sublinear tf, idf from all training texts (labelled+pool), L2 row norm.
Dense block  : LSA of the pool. Vectoriser char 1-3-grams, BINARY tf x idf (smooth idf), min_df=5, NO row
               normalisation before the SVD; randomized TruncatedSVD k=50 (n_iter=5, seed 0) fitted on all
               training texts; projected doc vector L2-normalised; weight alpha=1 (both blocks unit norm).
Classifier   : LinearSVC (hinge^2, liblinear default), C chosen by stratified 3-fold CV on the labelled set over {1,3,10}.
Labels: the first N lines of train.jsonl (and 5 seeded random draws of N); the pool: every
training text without its label; accuracy on the whole test.jsonl.
Run: /usr/bin/python3 tests/bench/fewlabels_study.py [DATA_DIR/zh]"""
import json, os, sys, time, numpy as np, scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.decomposition import TruncatedSVD
from sklearn.svm import LinearSVC
from sklearn.preprocessing import normalize
from sklearn.model_selection import StratifiedKFold
D=(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'zh')).rstrip('/')+'/'
def load(f):
    L=[json.loads(l) for l in open(D+f,encoding='utf-8')]; return [d['text'] for d in L], np.array([d['label']=='pos' for d in L],int)
Xtr,ytr=load('train.jsonl'); Xte,yte=load('test.jsonl')
t=time.time()
sv=TfidfVectorizer(analyzer='char',ngram_range=(1,3),sublinear_tf=True,dtype=np.float32).fit(Xtr)
lv=TfidfVectorizer(analyzer='char',ngram_range=(1,3),binary=True,norm=None,min_df=5,dtype=np.float32)
T=lv.fit_transform(Xtr); svd=TruncatedSVD(50,algorithm='randomized',n_iter=5,random_state=0).fit(T)
print('pool fit %.1fs (LSA vocab %d, k=50)'%(time.time()-t,T.shape[1]))
def feats(texts): return sp.hstack([sv.transform(texts), sp.csr_matrix(normalize(svd.transform(lv.transform(texts))))]).tocsr()
F_tr=feats(Xtr); F_te=feats(Xte)
def train_predict(idx):
    X,y=F_tr[idx],ytr[idx]; skf=StratifiedKFold(3,shuffle=True,random_state=0); best=None
    for C in [1,3,10]:
        a=np.mean([np.mean(LinearSVC(C=C,max_iter=5000).fit(X[i],y[i]).predict(X[j])==y[j]) for i,j in skf.split(X,y)])
        if best is None or a>best[0]+1e-9: best=(a,C)
    return LinearSVC(C=best[1],max_iter=5000).fit(X,y).predict(F_te)
for n in [50,100,200,400]:
    first=np.mean(train_predict(np.arange(n))==yte)
    r=[np.mean(train_predict(np.random.RandomState(s).choice(len(Xtr),n,replace=False))==yte) for s in [1,2,3,4,5]]
    print('N=%d  first-N %.3f   5 draws %.3f ± %.3f'%(n,first,np.mean(r),np.std(r,ddof=1)),flush=True)
