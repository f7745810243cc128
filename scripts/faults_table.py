import json, numpy as np
d = json.load(open('docs/results/evaluate_perception.json'))
rows = []
def stats(eps):
    return len(eps), 100*np.mean([e['collided'] for e in eps]), np.mean([e['mean_speed_mps'] for e in eps]), np.mean([e['score'] for e in eps])
base = [e for e in d['episodes'] if e['scenario']=='highway' and e['world_model']=='perception' and e['seed']<10]
gt = [e for e in d['episodes'] if e['scenario']=='highway' and e['world_model']=='ground_truth' and e['planner']=='rule' and e['seed']<10]
rows.append(('ground truth (no sensors)', *stats(gt)))
rows.append(('perception, no fault', *stats(base)))
for name, f in (('camera blackout 10-20 s', 'camera_blackout'), ('lidar blackout 10-20 s', 'lidar_blackout'),
                ('20 % of frames dropped', 'dropped_frames'), ('both sensors out 10-11 s', 'both_blackout')):
    try:
        eps = json.load(open(f'docs/results/faults_{f}.json'))['episodes']
        rows.append((name, *stats(eps)))
    except FileNotFoundError:
        pass
out = ['highway, rule planner, seeds 0-9, perception world model unless stated', f"{'condition':<28}{'episodes':>9}{'collision %':>13}{'mean speed m/s':>16}{'score':>8}"]
out += [f"{r[0]:<28}{r[1]:>9}{r[2]:>13.1f}{r[3]:>16.2f}{r[4]:>8.3f}" for r in rows]
print("\n".join(out))
open('docs/results/faults.txt','w').write("\n".join(out)+"\n")
